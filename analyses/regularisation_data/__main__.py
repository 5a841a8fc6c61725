"""`python analyses/regularisation_data --quick`: the same as `dlclaims run regularisation-data --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
