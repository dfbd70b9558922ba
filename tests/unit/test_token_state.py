"""A run soon after another against the same target starts from the windows it left."""

from __future__ import annotations

from pathlib import Path

from replyguard.suite.pacing import Pacer
from replyguard.suite.token_state import TokenState, token_key

TOKEN = "tok-secret-0123456789abcdef"


def test_the_state_keeps_times_by_a_hash_never_the_token(tmp_path: Path) -> None:
    state = TokenState(tmp_path)
    key = token_key("http://127.0.0.1:1/api", TOKEN)
    state.write({key: 1_800_000_000.0})
    assert TokenState(tmp_path).read() == {key: 1_800_000_000.0}
    assert TOKEN not in state.path.read_text(encoding="utf-8")
    # Another target's token is another key.
    assert token_key("http://127.0.0.1:2/api", TOKEN) != key


def test_an_unreadable_state_is_empty(tmp_path: Path) -> None:
    state = TokenState(tmp_path)
    state.path.parent.mkdir(parents=True)
    state.path.write_text("{not json", encoding="utf-8")
    assert state.read() == {}


def test_a_recent_send_of_an_earlier_run_makes_the_pacer_wait_for_a_fresh_window() -> None:
    now = [100.0]
    pacer = Pacer(5, 2.0, margin=0.0, clock=lambda: now[0], sleep=lambda s: None)
    pacer.seed("k", 0.5)  # an earlier run sent on this token half a second ago
    assert pacer.quiet_delay("k") == 1.5
    pacer.seed("old", 2.5)  # longer ago than a window: nothing to wait for
    assert pacer.quiet_delay("old") == 0.0
