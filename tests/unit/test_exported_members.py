"""The curated top-level API exports exactly what it lists (as httpx checks its own)."""

import replyguard


def test_all_exports_exist_and_are_public() -> None:
    for name in replyguard.__all__:
        assert hasattr(replyguard, name), name
    public = {n for n in dir(replyguard) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(replyguard, n)).__name__ == "module"}
    assert public - modules == set(replyguard.__all__)
