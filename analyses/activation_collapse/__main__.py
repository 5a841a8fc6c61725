"""`python analyses/activation_collapse --quick`: the same as `dlclaims run activation-collapse --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
