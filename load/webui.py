"""The verdict in locust's web UI: a "replyguard" tab and a JSON page at /replyguard/verdict."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request
from locust.env import Environment

from load.judge import Verdict
from load.runtime import STATE

__all__ = ["install", "verdict_rows"]

TAB = "replyguard"


def verdict_rows(verdict: Verdict | None, *, final: bool) -> list[dict[str, Any]]:
    """Rows of the tab's table: one per violated check, or one that says all passed."""
    if verdict is None:
        return [{"check": "no verdict yet", "count": "", "example": ""}]
    stage = "final" if final else "live (data older than one window + 1 s)"
    rows = [{"check": f"{'PASS' if verdict.passed else 'FAIL'} ({stage})",
             "count": verdict.observations, "example": "requests judged"}]
    for kind, count in sorted(verdict.counts.items(), key=lambda item: -item[1]):
        rows.append({"check": kind, "count": count,
                     "example": STATE.mask(verdict.examples[kind])})
    for name, value in sorted(verdict.figures.items()):
        rows.append({"check": name, "count": value, "example": ""})
    return rows


def _current() -> tuple[Verdict | None, bool]:
    if STATE.verdict is not None:
        return STATE.verdict, True
    return STATE.live, False


def install(environment: Environment) -> None:
    """Add the tab, its data feed and the JSON page to the running web UI."""
    web_ui = environment.web_ui
    if web_ui is None or web_ui.app is None:
        return
    app = web_ui.app
    web_ui.template_args["extended_tabs"] = [{"title": "replyguard verdict", "key": TAB}]
    web_ui.template_args["extended_tables"] = [{
        "key": TAB,
        "structure": [{"key": "check", "title": "Check"},
                      {"key": "count", "title": "Count"},
                      {"key": "example", "title": "Example"}],
    }]

    @app.after_request
    def _add_verdict(response: Response) -> Response:
        if request.path != "/stats/requests" or not response.is_json:
            return response
        verdict, final = _current()
        data = response.get_json() or {}
        extended = [e for e in data.get("extended_stats", []) if e.get("key") != TAB]
        extended.append({"key": TAB, "data": verdict_rows(verdict, final=final)})
        response.set_data(json.dumps({**data, "extended_stats": extended}))
        return response

    @app.route("/replyguard/verdict")
    def _verdict() -> Response:
        verdict, final = _current()
        body = {"final": final, "verdict": None if verdict is None else verdict.to_dict()}
        return jsonify(json.loads(STATE.mask(json.dumps(body))))
