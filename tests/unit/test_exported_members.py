"""The curated APIs export exactly what they list (as httpx checks its own): the top level and
the testing API that ``contract_tests/`` and a user's own tests import."""

import types

import pytest

import replyguard
import replyguard.testing


@pytest.mark.parametrize("module", [replyguard, replyguard.testing], ids=lambda m: m.__name__)
def test_all_exports_exist_and_are_public(module: types.ModuleType) -> None:
    for name in module.__all__:
        assert hasattr(module, name), name
    public = {n for n in dir(module) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(module, n)).__name__ == "module"}
    assert public - modules == set(module.__all__)
