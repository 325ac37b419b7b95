#!/usr/bin/env bash
# Makes sure the programs the tests run are installed: Python with venv, PostgreSQL's server binaries (the tests
# start a throwaway cluster), Prometheus and promtool, and Debian's chromium with its chromedriver (the pages' browser
# test drives them with selenium; Selenium Manager is never asked to download one). As root with apt-get it installs what is missing; otherwise
# it stops with one message naming what to install. Quick and silent when everything is there.
set -euo pipefail

pg_server_present() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ] && return 0
  done
  return 1
}

# An override names the binary to use, so the package that would provide it is not needed.
tool_present() { # override variable, command
  local path="${!1:-}"
  [ -n "$path" ] || path=$(command -v "$2") || return 1
  [ -f "$path" ] && [ -x "$path" ]
}

# The browser test names its binaries by path (tests/services/binaries.py): an override, else Debian's.
file_present() { # override variable, default path
  local path="${!1:-$2}"
  [ -f "$path" ] && [ -x "$path" ]
}

# Fills `need` (Debian packages) and `what` (what is missing, in words).
detect() {
  need=()
  what=()
  if ! python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    need+=(python3-venv)
    what+=("Python 3.11+ with venv")
  fi
  if [ -z "${DRIFTWATCH_TEST_POSTGRES_URL:-}" ] && ! pg_server_present; then
    need+=(postgresql)
    what+=("PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl, postgres)")
  fi
  if ! tool_present DRIFTWATCH_TEST_PROMETHEUS prometheus || ! tool_present PROMTOOL promtool; then
    need+=(prometheus)
    what+=("prometheus and promtool")
  fi
  if ! file_present DRIFTWATCH_TEST_CHROMIUM /usr/bin/chromium; then
    need+=(chromium)
    what+=("chromium (/usr/bin/chromium)")
  fi
  if ! file_present DRIFTWATCH_TEST_CHROMEDRIVER /usr/bin/chromedriver; then
    need+=(chromium-driver)
    what+=("chromedriver (/usr/bin/chromedriver)")
  fi
}

joined() { local out; printf -v out '%s; ' "$@"; echo "${out%; }"; }

detect
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "provision: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  detect
  [ ${#need[@]} -eq 0 ] && exit 0
  echo "provision: still missing after apt-get install: $(joined "${what[@]}")" >&2
  exit 1
fi

echo "provision: missing $(joined "${what[@]}"). Install the Debian packages: sudo apt-get install ${need[*]}" \
  "(or run sudo $0); DRIFTWATCH_TEST_POSTGRES_URL, DRIFTWATCH_TEST_PROMETHEUS, PROMTOOL, DRIFTWATCH_TEST_CHROMIUM and" \
  "DRIFTWATCH_TEST_CHROMEDRIVER can name ones to use instead." >&2
exit 1
