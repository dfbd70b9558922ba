"""The engine: one run of the contract suite, in order, for every caller (cli, selftest, pytest)."""
