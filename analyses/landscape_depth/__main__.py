"""`python analyses/landscape_depth --quick`: the same as `dlclaims run landscape-depth --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
