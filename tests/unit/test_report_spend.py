"""Created and billed lines say what a target costs: nothing on a free local reference."""

from __future__ import annotations

import io
from typing import Any

import pytest

from replyguard.report import print_report, render_html, render_markdown
from tests.helpers.gate_reports import make_report


def _report(mode: str, local: bool) -> dict[str, Any]:
    report = make_report({"reply.y": "pass"})
    report["target"].update(mode=mode, local=local)
    report["requests"] = {"create_assistant": 250, "generate_reply": 135, "billed_calls": 67}
    report["created_assistants"] = list(range(1000, 1229))
    return report


def _outputs(report: dict[str, Any]) -> dict[str, str]:
    plain = io.StringIO()
    print_report(report, "plain", stream=plain)
    return {"plain": plain.getvalue(), "html": render_html(report), "md": render_markdown(report)}


@pytest.mark.parametrize("fmt", ["plain", "html", "md"])
def test_a_local_reference_reports_a_count_and_bills_nothing(fmt: str) -> None:
    text = _outputs(_report("exhaustive", local=True))[fmt]
    assert "billed" not in text
    assert "1228" not in text  # no list of ids
    assert "CREATED" not in text
    if fmt != "md":
        assert "229" in text  # the count


@pytest.mark.parametrize("fmt", ["plain", "html", "md"])
def test_a_paid_target_lists_what_it_created_and_billed(fmt: str) -> None:
    text = _outputs(_report("paid", local=False))[fmt]
    assert "billed_calls 67" in text
    if fmt != "md":
        assert "1000" in text
        assert "remove them in the vendor's portal" in text


def test_the_html_list_of_created_assistants_is_one_line() -> None:
    page = render_html(_report("paid", local=False))
    line = next(line for line in page.splitlines() if "1228" in line)
    assert "1000, 1001" in line
