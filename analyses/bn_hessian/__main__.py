"""`python analyses/bn_hessian --quick`: the same as `dlclaims run bn-hessian --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
