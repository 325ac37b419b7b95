"""The check history for people on call: `driftwatch checks` lists recent checks, `driftwatch show` opens one."""
