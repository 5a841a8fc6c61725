"""`python analyses/adaptive_optimisers --quick`: the same as `dlclaims run adaptive-optimisers --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
