"""`python analyses/normalisation_layers --quick`: the same as `dlclaims run normalisation-layers --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
