"""The rate-limit timeline: one SVG for the HTML report and the load web UI."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from replyguard.report.timeline import Mark, limit_windows, timeline_svg

_BUCKET = {"family": {"value": "token bucket"}, "refill": 12.0, "summary": "token bucket"}
_WINDOW = {"family": {"value": "fixed window"}, "anchor": {"value": "first hit"}}


def _burst(served_at: list[float], refused_at: list[float], lane: str = "primary") -> list[Mark]:
    marks = [Mark.of(lane, t, 200, served=True, refused=False) for t in served_at]
    return marks + [Mark.of(lane, t, 429, served=False, refused=True) for t in refused_at]


def test_a_bucket_that_serves_a_sixth_call_within_the_minute_is_drawn_over_the_limit() -> None:
    marks = _burst([0, 0.1, 0.2, 0.3, 0.4, 12.5], [0.5, 6.5])
    svg = timeline_svg(marks, limit=5, window=60, limiter=_BUCKET)
    ElementTree.fromstring(svg)  # well-formed, standalone
    assert svg.count('class="call served"') == 6
    assert svg.count('class="call refused"') == 2
    assert 'class="limit-window over" data-served="6"' in svg
    assert "6 / 5 served: over the limit" in svg
    assert 'class="refill"' in svg
    assert "1 window over the limit" in svg


def test_a_fixed_window_that_serves_five_per_window_holds() -> None:
    marks = _burst([0, 0.1, 0.2, 0.3, 0.4, 60.2, 60.3], [0.5, 30, 59.5])
    svg = timeline_svg(marks, limit=5, window=60, limiter=_WINDOW)
    assert 'class="limit-window over"' not in svg
    assert svg.count('class="limit-window held"') == 2
    assert 'class="reset"' in svg
    assert "the limit held in every window" in svg


def test_a_clock_window_serving_five_before_and_five_after_its_reset_holds() -> None:
    before = [115.0, 115.1, 115.2, 115.3, 115.4]
    after = [120.1, 120.2, 120.3, 120.4, 120.5]
    assert [w[2] for w in limit_windows(before + after, 60, clock=True)] == [5, 5]
    # Without the clock anchor the same replies are ten in one window from the first.
    assert [w[2] for w in limit_windows(before + after, 60)] == [10]


def test_a_laravel_window_ending_up_to_a_second_early_holds() -> None:
    assert [w[2] for w in limit_windows([0, 0.1, 0.2, 0.3, 0.4, 59.3], 60)] == [5, 1]


def test_no_calls_and_no_secret_or_script() -> None:
    assert "no generate-reply call" in timeline_svg([], limit=5, window=60)
    svg = timeline_svg(_burst([0.0], [], lane="secondary"), limit=5, window=60)
    assert not re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)", svg)
