"""The verdict in locust's web UI: a "replyguard verdict" tab, a page and a JSON feed.

Locust shows its tabs once a swarm has started; the tab then says what will be judged until
there is something to say. ``/replyguard`` is a plain page with the same content, reachable
before the first swarm; ``/replyguard/verdict`` is the JSON.
"""

from __future__ import annotations

import html
import json
from typing import Any

from flask import Response, jsonify, request
from locust.env import Environment

from load.judge import (
    GAVE_UP,
    INEFFICIENT,
    NO_RESPONSE,
    SERVER_ERROR,
    UNDOCUMENTED,
    Verdict,
)
from load.result import (
    INCONCLUSIVE,
    advice,
    is_inconclusive,
    result_of,
    violation_detail,
    violations,
)
from load.runtime import STATE, TargetInfo
from replyguard.report.timeline import Mark, timeline_svg

__all__ = [
    "TAB",
    "check_result",
    "install",
    "planned_checks",
    "timeline",
    "users_of",
    "verdict_rows",
]

TAB = "replyguard"
TITLE = "replyguard verdict"
#: The judge's kinds (catalogue rule ids, or the load run's own checks) that fail each planned
#: check (planned_checks' names).
_FAILS = {
    "count": {"ratelimit.limit", "ratelimit.status-429"},
    "429 body": {
        "ratelimit.body",
        "ratelimit.retry-after.range",
        "ratelimit.retry-after.header-agrees",
    },
    "recovery": {"ratelimit.recovers"},
    "per-token isolation": {"ratelimit.per-token"},
    "well-behaved client": {GAVE_UP, INEFFICIENT},
    "soak": {"ratelimit.limit", NO_RESPONSE},
    "throughput": {SERVER_ERROR, UNDOCUMENTED, NO_RESPONSE},
}
#: The checks that need a throttled token: a run that never reached the limit cannot judge them.
_NEED_A_429 = {"count", "429 body", "recovery", "per-token isolation", "soak"}


def check_result(check: str, detail: str, verdict: Verdict) -> str:
    """PASS, FAIL, INCONCLUSIVE or not tested: the final result of one planned check."""
    if detail.startswith("not tested"):
        return "not tested"
    if check == "fingerprint":
        fingerprint = STATE.fingerprint
        if fingerprint is None:
            return "not tested"
        failed = any(i.level == "verdict" and i.outcome == "fail" for i in fingerprint.items)
        return "FAIL" if failed else "PASS"
    if _FAILS.get(check, set()) & set(verdict.counts):
        return "FAIL"
    if check in _NEED_A_429 and any(is_inconclusive(k) for k in verdict.counts):
        # A token that never got a 429: isolation needs both tokens throttled; the other
        # checks were judged on any token that was.
        throttled = [v for k, v in verdict.figures.items() if k.endswith(": throttled") and v]
        if check == "per-token isolation" or not throttled:
            return INCONCLUSIVE
    return "PASS"


def _limit_row(target: TargetInfo | None) -> list[dict[str, Any]]:
    if target is None:
        return []
    return [
        {
            "item": "limit",
            "result": f"{target.limit} per {target.window:g} s",
            "detail": "the target's rate_limit (profile): every count is judged per token "
            f"in windows of {target.window:g} s",
        }
    ]


def planned_checks(scenarios: set[str], target: TargetInfo | None) -> list[tuple[str, str]]:
    """What a run of ``scenarios`` judges, in plain words: (check, detail)."""
    if target is None:
        return [("throughput", "every request answered 200")] if scenarios else []
    per = f"{target.limit} per {target.window:g} s"
    rate = scenarios - {"throughput", "fingerprint"}
    out: list[tuple[str, str]] = []
    if rate:
        out += [
            ("count", f"at most {per} served on each token, and the limit reached before any 429"),
            (
                "429 body",
                "{message: string, retry_after: whole seconds 1.."
                f"{target.window:g}}}; Retry-After agrees when sent",
            ),
            ("recovery", "a client that waits retry_after is served again"),
        ]
    if rate & {"isolation", "soak"}:
        out.append(
            (
                "per-token isolation",
                "two tokens of one account each get their own limit"
                if target.tokens.secondary
                else "not tested: no tokens.secondary",
            )
        )
    if "well-behaved" in rate:
        out.append(("well-behaved client", "every message answered; served rate near the limit"))
    if "soak" in rate:
        out.append(("soak", "every window but the last exactly full; no request lost"))
    if "fingerprint" in scenarios:
        out.append(
            (
                "fingerprint",
                "window kind and anchor, length, statuses that count, "
                "scope, retry_after, rate-limit headers",
            )
        )
    if "throughput" in scenarios:
        out.append(("throughput", "every request answered 200"))
    return out


def verdict_rows(
    verdict: Verdict | None,
    *,
    final: bool,
    started: bool | None = None,
    users: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of the tab's table (item, result, detail); ``users``: how many the run had."""
    target = STATE.targets.get("rate-limit")
    scenarios = STATE.scenarios or STATE.planned
    rows: list[dict[str, Any]] = []
    if verdict is None:
        running = bool(STATE.scenarios) if started is None else started
        state = "running" if running else "not started"
        rows.append(
            {
                "item": "Verdict",
                "result": state,
                "detail": "the final verdict comes when the test stops",
            }
        )
    elif final:
        result: str = result_of(verdict)
        detail = f"{verdict.observations} requests judged"
        if result == INCONCLUSIVE:
            why = next(verdict.examples[k] for k in verdict.counts if is_inconclusive(k))
            detail = f"could not judge: {why}; {_advice(target, users)}"
        rows.append({"item": "Verdict", "result": result, "detail": detail})
    else:
        result = "FAIL so far" if violations(verdict) else "no violation so far"
        rows.append(
            {
                "item": "Verdict",
                "result": result,
                "detail": f"{verdict.observations} requests older than one window "
                "judged; the final verdict comes when the test stops",
            }
        )
    rows += _limit_row(target)
    if verdict is None:
        rows += [
            {"item": f"will judge: {check}", "result": "", "detail": detail}
            for check, detail in planned_checks(scenarios, target)
        ]
        return rows
    if final:
        # Every planned check stays on the final tab, with its result (issue 20).
        rows += [
            {
                "item": f"judged: {check}",
                "result": check_result(check, detail, verdict),
                "detail": detail,
            }
            for check, detail in planned_checks(scenarios, target)
        ]
    for kind, count in sorted(verdict.counts.items(), key=lambda item: -item[1]):
        inconclusive = is_inconclusive(kind)
        rows.append(
            {
                "item": kind if inconclusive else f"violation: {kind}",
                "result": f"{INCONCLUSIVE} ({count}x)" if inconclusive else f"{count}x",
                "detail": violation_detail(kind, STATE.mask(verdict.examples[kind])),
            }
        )
    for kind, count in sorted(verdict.observed.items()):
        rows.append(
            {
                "item": f"observed: {kind}",
                "result": f"{count}x",
                "detail": STATE.mask(verdict.examples[kind]),
            }
        )
    rows += [{"item": "not tested", "result": "", "detail": note} for note in verdict.notes]
    for name, value in sorted(verdict.figures.items()):
        rows.append({"item": name, "result": f"{value:g}", "detail": ""})
    if STATE.fingerprint is not None:
        for item in STATE.fingerprint.items:
            rows.append(
                {
                    "item": f"fingerprint: {item.name}",
                    "result": f"{item.outcome}: {item.value}"
                    if item.level == "verdict"
                    else item.value,
                    "detail": item.evidence,
                }
            )
    return rows


def _advice(target: TargetInfo | None, users: int | None) -> str:
    """What to change so that the run can judge (users and tokens of this run)."""
    tokens = {role for scenario in STATE.scenarios for role in STATE.roles.get(scenario, ())}
    return advice(users, len(tokens) or 1, target.window if target else 60.0)


def users_of(environment: Environment) -> int | None:
    """How many users the run was started with (-u, or the web UI's form)."""
    options = environment.parsed_options
    users = getattr(options, "num_users", None) if options is not None else None
    return int(users) if users is not None else None


def _started(environment: Environment) -> bool:
    runner = environment.runner
    return runner is not None and runner.state not in ("ready",)


def _current() -> tuple[Verdict | None, bool]:
    if STATE.verdict is not None:
        return STATE.verdict, True
    return STATE.live, False


def _page(started: bool, users: int | None) -> str:
    verdict, final = _current()
    cells = "".join(
        f"<tr><td>{html.escape(str(r['item']))}</td><td>{html.escape(str(r['result']))}</td>"
        f"<td>{html.escape(str(r['detail']))}</td></tr>"
        for r in verdict_rows(verdict, final=final, started=started, users=users)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>replyguard verdict"
        "</title><meta http-equiv='refresh' content='2'></head><body>"
        f"<h1>{TITLE}</h1><table border='1' cellpadding='4'><tr><th>Item</th>"
        f"<th>Result</th><th>Detail</th></tr>{cells}</table>"
        f"<h2>The rate limit, call by call</h2><div id='timeline'>{timeline(verdict)}</div>"
        "</body></html>"
    )


def timeline(verdict: Verdict | None) -> str:
    """The run's calls per token as inline SVG (the HTML report draws the same picture)."""
    target = STATE.targets.get("rate-limit")
    if target is None:
        return "<p>no rate-limit target in this run</p>"
    marks = [
        Mark.of(
            o.token,
            o.sent,
            o.status,
            served=200 <= o.status < 300,
            # A 429, or a gateway's over-limit page: the load judge never counts either served.
            refused=o.status == 429 or o.status >= 500,
        )
        for o in STATE.recorder.observations
    ]
    # The rate-limit model's description (the resets or refills), as the judge reports it.
    described = ((verdict.assessment if verdict else None) or {}).get("limiter")
    return timeline_svg(marks, limit=target.limit, window=target.window, limiter=described)


def install(environment: Environment) -> None:
    """Add the tab, its data feed, the page and the JSON to the running web UI."""
    web_ui = environment.web_ui
    if web_ui is None or web_ui.app is None:
        return
    STATE.planned = {getattr(c, "scenario", "") for c in environment.user_classes} - {""}
    app = web_ui.app
    web_ui.template_args["extended_tabs"] = [{"title": TITLE, "key": TAB}]
    web_ui.template_args["extended_tables"] = [
        {
            "key": TAB,
            "structure": [
                {"key": "item", "title": "Item"},
                {"key": "result", "title": "Result"},
                {"key": "detail", "title": "Detail"},
            ],
        }
    ]

    @app.after_request
    def _add_verdict(response: Response) -> Response:
        if request.path != "/stats/requests" or not response.is_json:
            return response
        verdict, final = _current()
        data = response.get_json() or {}
        extended = [e for e in data.get("extended_stats", []) if e.get("key") != TAB]
        extended.append(
            {
                "key": TAB,
                "data": verdict_rows(
                    verdict, final=final, started=_started(environment), users=users_of(environment)
                ),
            }
        )
        response.set_data(json.dumps({**data, "extended_stats": extended}))
        return response

    @app.route("/replyguard")
    def _verdict_page() -> Response:
        return Response(
            STATE.mask(_page(_started(environment), users_of(environment))), mimetype="text/html"
        )

    @app.route("/replyguard/verdict")
    def _verdict() -> Response:
        verdict, final = _current()
        body = {
            "final": final,
            "verdict": None if verdict is None else verdict.to_dict(),
            "result": None if verdict is None or not final else result_of(verdict),
            "fingerprint": None if STATE.fingerprint is None else STATE.fingerprint.to_dict(),
            "rows": verdict_rows(
                verdict, final=final, started=_started(environment), users=users_of(environment)
            ),
        }
        return jsonify(json.loads(STATE.mask(json.dumps(body))))
