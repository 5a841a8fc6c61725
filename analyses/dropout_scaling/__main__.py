"""`python analyses/dropout_scaling --quick`: the same as `dlclaims run dropout-scaling --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
