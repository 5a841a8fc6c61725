"""`python analyses/conditioning_line_search --quick`: the same as `dlclaims run conditioning-line-search --quick`."""

from dlclaims.suite import cli

raise SystemExit(cli.main_for(__file__))
