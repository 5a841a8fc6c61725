"""`python analyses/sgd_uncertainty --quick`: the same as `dlclaims run sgd-uncertainty --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
