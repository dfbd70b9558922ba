"""A picture of the rate limit: generate-reply calls per token over time, as inline SVG.

One lane per token: a green dot for each call served, a red cross for each refused (the 429, or
whatever this target answers over the limit instead), a grey square for any other answer. Behind
the marks, the documented limit: from each burst's first reply, a band one window long labelled
"n / limit served", red when more were served than the documents allow. Over them, what the
limiter's description says brings slots back: a fixed window's resets (dashed lines) or a
bucket's refills (ticks). A person sees at a glance whether the limit held.

Self-contained: no script, no stylesheet, no font or file from the network. The HTML report and
the load web UI both draw with :func:`timeline_svg`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from replyguard.profile import TOKEN_ROLES
from replyguard.ratelimit import Limits

__all__ = ["MAX_MARKS", "Mark", "limit_windows", "timeline_svg"]

#: Marks drawn at most (a long load run keeps its latest calls); the picture stays small.
MAX_MARKS = 3000
_WIDTH = 960
_LEFT = 110
_RIGHT = 20
_LANE = 56
_TOP = 34
_AXIS = 34
_SERVED, _REFUSED, _OTHER = "served", "refused", "other"
_COLOURS = {_SERVED: "#1a7f37", _REFUSED: "#cf222e", _OTHER: "#6e7781"}


@dataclass(slots=True, frozen=True)
class Mark:
    """One call: its token's label (never the token), when it was sent, what it got."""

    lane: str
    at: float
    status: int
    outcome: str
    """``served``, ``refused`` or ``other``."""

    @classmethod
    def of(cls, lane: str, at: float, status: int, *, served: bool, refused: bool) -> Mark:
        """A mark from a call's status and whether it was served or refused over the limit."""
        outcome = _SERVED if served else _REFUSED if refused else _OTHER
        return cls(lane, at, status, outcome)


def limit_windows(
    times: Sequence[float], window: float, *, clock: bool = False
) -> list[tuple[float, float, int]]:
    """Windows of the documented limit over one token's served calls: (start, end, served).

    Each starts at the first reply not in the previous one (a burst's first call); a window
    anchored on the clock (``clock``, epoch times) starts at the clock's multiple of ``window``
    instead, so that five replies before its reset and five after are two windows, as they are.
    A window lasts ``window`` less up to a second: Laravel keeps its timer in whole seconds,
    so a conforming window may reset that much early.
    """
    length = window if clock else Limits(1, window).shortest_window
    out: list[tuple[float, float, int]] = []
    for at in sorted(times):
        if out and at < out[-1][1]:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + 1)
        else:
            begin = at // window * window if clock else at
            out.append((begin, begin + length, 1))
    return out


def _lanes(marks: Sequence[Mark]) -> list[str]:
    order: dict[str, int] = {role: rank for rank, role in enumerate(TOKEN_ROLES)}
    return sorted({m.lane for m in marks}, key=lambda lane: (order.get(lane, 9), lane))


def _finding(limiter: Mapping[str, Any] | None, key: str) -> str:
    item = (limiter or {}).get(key)
    return str(item.get("value", "")) if isinstance(item, Mapping) else str(item or "")


def timeline_svg(
    marks: Iterable[Mark],
    *,
    limit: int,
    window: float,
    limiter: Mapping[str, Any] | None = None,
    title: str = "generate-reply calls per token",
) -> str:
    """The timeline as one ``<svg>`` element (an empty picture says there were no calls).

    ``limiter``: the rate-limit model's description in its JSON form (``family``, ``refill``,
    ``window``, ``summary``), for the resets or refills; without it only the limit is drawn.
    """
    chosen = sorted(marks, key=lambda m: m.at)[-MAX_MARKS:]
    lanes = _lanes(chosen)
    height = _TOP + _LANE * max(1, len(lanes)) + _AXIS + 36
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rl-timeline" role="img" '
        f'width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" '
        f'font-family="sans-serif" font-size="12" data-limit="{limit}" '
        f'data-window="{window:g}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_LEFT}" y="16" font-weight="600">{escape(title)}; documented limit '
        f"{limit} per {window:g} s</text>",
    ]
    if not chosen:
        parts.append(f'<text x="{_LEFT}" y="{_TOP + 20}">no generate-reply call</text></svg>')
        return "".join(parts)
    start = chosen[0].at
    span = max(chosen[-1].at - start, window) * 1.04
    scale = (_WIDTH - _LEFT - _RIGHT) / span

    def x(at: float) -> float:
        return round(_LEFT + (at - start) * scale, 1)

    family = _finding(limiter, "family")
    clock = family == "fixed window" and _finding(limiter, "anchor") == "clock"
    refill = (limiter or {}).get("refill")
    over = 0
    for i, lane in enumerate(lanes):
        top = _TOP + i * _LANE
        mid = top + _LANE / 2
        mine = [m for m in chosen if m.lane == lane]
        parts.append(
            f'<g class="lane" data-lane="{escape(lane)}"><text x="{_LEFT - 8}" y="{mid + 4}" '
            f'text-anchor="end">{escape(lane)}</text>'
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{mid}" y2="{mid}" stroke="#d0d7de"/>'
        )
        replies = [m.at for m in mine if m.outcome == _SERVED]
        for begin, end, served in limit_windows(replies, window, clock=clock):
            held = served <= limit
            over += not held
            begin = max(begin, start)
            width = round(min(x(end), _WIDTH - _RIGHT) - x(begin), 1)
            colour, tone = ("#dafbe1", "#1a7f37") if held else ("#ffebe9", "#cf222e")
            label = f"{served} / {limit} served" + ("" if held else ": over the limit")
            # A narrow band (a short window on a long run) keeps its words in its tooltip.
            text = label if width >= 110 else ("" if held else f"{served}!")
            parts.append(
                f'<g class="limit-window {"held" if held else "over"}" data-served="{served}">'
                f"<title>{escape(label)}</title>"
                f'<rect x="{x(begin)}" y="{top + 4}" width="{width}" height="{_LANE - 8}" '
                f'fill="{colour}" stroke="{tone}" stroke-opacity="0.5"/>'
                f'<text x="{x(begin) + 3}" y="{top + 15}" fill="{tone}">{escape(text)}</text></g>'
            )
            if family == "fixed window" and end <= chosen[-1].at:
                parts.append(
                    f'<line class="reset" x1="{x(end)}" x2="{x(end)}" '
                    f'y1="{top + 2}" y2="{top + _LANE - 2}" stroke="#0969da" '
                    f'stroke-dasharray="4 3"/>'
                )
        refused = [m.at for m in mine if m.outcome == _REFUSED]
        if isinstance(refill, int | float) and refill > 0 and refused:
            at, ticks = min(refused) + refill, 0
            while at <= chosen[-1].at and ticks < 200:
                parts.append(
                    f'<line class="refill" x1="{x(at)}" x2="{x(at)}" y1="{top + _LANE - 12}" '
                    f'y2="{top + _LANE - 4}" stroke="#0969da"/>'
                )
                at, ticks = at + refill, ticks + 1
        for m in mine:
            cx, label = x(m.at), f"{m.outcome}: HTTP {m.status} at {m.at - start:.1f} s"
            if m.outcome == _SERVED:
                shape = f'<circle cx="{cx}" cy="{mid}" r="4" fill="{_COLOURS[_SERVED]}"/>'
            elif m.outcome == _REFUSED:
                shape = (
                    f'<path d="M{cx - 4} {mid - 4}L{cx + 4} {mid + 4}M{cx - 4} {mid + 4}'
                    f'L{cx + 4} {mid - 4}" stroke="{_COLOURS[_REFUSED]}" stroke-width="2"/>'
                )
            else:
                shape = (
                    f'<rect x="{cx - 3}" y="{mid - 3}" width="6" height="6" '
                    f'fill="{_COLOURS[_OTHER]}"/>'
                )
            parts.append(
                f'<g class="call {m.outcome}" data-status="{m.status}"><title>{escape(label)}'
                f"</title>{shape}</g>"
            )
        parts.append("</g>")
    parts += _axis(len(lanes), span, x, start)
    parts.append(_legend(height, family, refill, over, limiter))
    parts.append("</svg>")
    return "".join(parts)


def _axis(lanes: int, span: float, x: Any, start: float) -> list[str]:
    y = _TOP + _LANE * max(1, lanes) + 4
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if span / s <= 12), 1200)
    out = [f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y}" y2="{y}" stroke="#57606a"/>']
    t = 0.0
    while t <= span:
        out.append(
            f'<line x1="{x(start + t)}" x2="{x(start + t)}" y1="{y}" y2="{y + 4}" '
            f'stroke="#57606a"/><text x="{x(start + t)}" y="{y + 16}" text-anchor="middle">'
            f"{t:g} s</text>"
        )
        t += step
    return out


def _legend(
    height: int, family: str, refill: Any, over: int, limiter: Mapping[str, Any] | None
) -> str:
    verdict = (
        "the limit held in every window"
        if not over
        else f"{over} window{'s' if over != 1 else ''} over the limit"
    )
    extra = ""
    if family == "fixed window":
        extra = "; dashed line: the window resets"
    elif isinstance(refill, int | float) and refill > 0:
        extra = f"; tick: a slot back every {refill:.3g} s"
    keys = f"● served  ✕ refused  ■ other answer; band: one window of the limit{extra}"
    summary = str((limiter or {}).get("summary") or "")
    colour = "#1a7f37" if not over else "#cf222e"
    lines = [
        f'<text class="legend" x="{_LEFT}" y="{height - 22}" font-size="11">{escape(keys)}</text>',
        f'<text class="verdict" x="{_LEFT}" y="{height - 6}" fill="{colour}" '
        f'font-weight="600">{escape(verdict)}'
        f"{escape('; limiter: ' + summary) if summary else ''}</text>",
    ]
    return "".join(lines)
