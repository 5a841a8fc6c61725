"""`python analyses/activations_init --quick`: the same as `dlclaims run activations-init --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
