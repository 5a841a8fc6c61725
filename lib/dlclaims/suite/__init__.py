"""The machinery that judges claims: the contract an analysis follows, the runner and its
executors, results written atomically, claims and the ledger, statistics, the regression
check, the report and the command line. It never imports :mod:`dlclaims.methods`."""
