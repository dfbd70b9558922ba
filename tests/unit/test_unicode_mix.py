"""The kinds of text beyond ASCII a paid run's valid calls carry, and the plan's line."""

from __future__ import annotations

from replyguard.suite.unicode_mix import COMBINING, EMOJI, RTL, describe, kinds_in


def test_each_kind_is_recognised_in_each_field() -> None:
    body = {"assistant_id": 1, "customer_identifier": f"a {EMOJI}", "message": f"{RTL} {COMBINING}"}
    assert kinds_in(body) == {
        "4-byte UTF-8 (emoji) in customer_identifier",
        "right-to-left text in message",
        "combining marks in message",
    }
    assert kinds_in({"customer_identifier": "Ünïcode", "message": "Hello"}) == set()
    assert kinds_in(["not", "a", "body"]) == set()


def test_the_plan_line_names_what_is_missing() -> None:
    every = {
        kind
        for body in (
            {"message": EMOJI + RTL + COMBINING, "customer_identifier": EMOJI + RTL + COMBINING},
        )
        for kind in kinds_in(body)
    }
    assert "none with" not in describe(every)
    assert "emoji" in describe(every)
    partial = describe(every - {"4-byte UTF-8 (emoji) in message"})
    assert partial.endswith("(none with 4-byte UTF-8 (emoji) in message)")
