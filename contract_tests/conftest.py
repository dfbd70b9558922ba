"""The contract suite: every documented rule of the AI Assistant API, against one target.

Run it with ``pytest contract_tests --target PROFILE`` or ``replyguard check``; with no
target it starts the embedded reference server. The hooks and fixtures live in the library
(``replyguard.suite.plugin``) so that ``replyguard check`` and this file share one of each.
"""

from hypothesis import HealthCheck, settings

from replyguard.suite.plugin import (  # noqa: F401 - pytest finds hooks and fixtures by name
    api,
    observations,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_deselected,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_sessionfinish,
    st_schema,
    suite,
    target,
)

# No example database: a failure found against one target must not be replayed against the
# next, and the suite must not write into the user's working directory.
settings.register_profile(
    "contract", database=None, deadline=None, derandomize=False, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.load_profile("contract")

