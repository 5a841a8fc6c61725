from dlclaims.suite.cli import main

raise SystemExit(main())
