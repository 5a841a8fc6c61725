from dlclaims.suite.entry import console

console()
