"""The engine: one run of the contract suite, in order, for every caller.

``check.run_check`` resolves the configuration, reads the gate's inputs, preflights, plans, runs
the suite in-process (``suite_plugin.SuitePlugin``), applies the gate and writes every report;
``replyguard check`` and the selftest's cases call it. ``pytest_plugin`` is the ``pytest11``
entry point that gives ``pytest contract_tests`` the same plugin. Kept free of imports here: the
entry point loads in every pytest run of an environment that has replyguard installed.
"""
