from dlclaims.cli import main

raise SystemExit(main())
