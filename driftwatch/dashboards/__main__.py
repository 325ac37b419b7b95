from driftwatch.dashboards.generate import main

raise SystemExit(main())
