"""`python analyses/nesterov_rates --quick`: the same as `dlclaims run nesterov-rates --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
