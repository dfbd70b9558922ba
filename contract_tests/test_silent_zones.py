"""Probes into the documents' silent zones: recorded as observations, never judged here.

Each zone of the contract's ``x-replyguard-silent-zones`` gets a few probes; the answer is
recorded with the contract's decision and whether the target agrees (``--strict`` turns a
disagreement into a failure of ``silent.<zone>``). No answer a zone allows fails a test; a 5xx
is no such answer and is a Violation of contract.no-server-error.

Safety: a probe the target may accept creates an assistant, so it is not sent without
``allow_writes``; a generate-reply probe costs a paid reply, so it is sent only to an
``exhaustive`` target.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from replyguard.profile import Target
from replyguard.strategies import SILENT_PROBES, Expect, SilentProbe, minimal_assistant
from replyguard.testing import ApiSession, Exchange, ObservationLog, Violation, short

UNKNOWN_ID = 2_000_000_000
NO_WRITES = "not sent: would create an assistant without allow_writes"
NOT_EXHAUSTIVE = "not sent: a generate-reply probe costs a paid reply (safety.exhaustive is false)"


def _keys(exchange: Exchange) -> list[str]:
    body = exchange.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    return sorted(errors) if isinstance(errors, dict) else []


def _keyed(exchange: Exchange, name: str) -> bool:
    return any(key == name or key.startswith(name + ".") for key in _keys(exchange))


def answer_of(exchange: Exchange) -> str:
    """What came back, in words."""
    if 200 <= exchange.status < 300:
        return f"accepted ({exchange.status})"
    if exchange.status == 422:
        return f"rejected (422, errors keyed by {', '.join(_keys(exchange)) or 'nothing'})"
    return exchange.summary(limit=120)


def _no_server_error(exchange: Exchange, probe: str) -> None:
    # A 5xx is an answer no zone allows: the target failed on input it had to handle somehow.
    if exchange.status >= 500:
        raise Violation(
            "contract.no-server-error",
            f"a 2xx or 4xx answer to {probe}",
            exchange.summary(limit=200),
            exchange,
        )


def _decision(expect: Expect, name: str) -> str:
    return {
        "accept": "accepted (201)",
        "reject": f"rejected with 422 keyed by {name}",
        "either": f"201, or 422 keyed by {name}",
    }[expect]


def _agrees(expect: Expect, exchange: Exchange, name: str) -> bool:
    accepted = exchange.status == 201
    rejected = exchange.status == 422 and _keyed(exchange, name)
    return {"accept": accepted, "reject": rejected, "either": accepted or rejected}[expect]


def _base(target: Target) -> dict[str, Any]:
    if not target.catalog.can_build("pipeline"):
        pytest.skip("the profile's catalog cannot build a valid pipeline assistant")
    return minimal_assistant(target.catalog, name=f"replyguard silent {uuid.uuid4().hex[:8]}")


def _needs_writes(target: Target) -> None:
    if not target.safety.allow_writes:
        pytest.skip(NO_WRITES)


def _needs_exhaustive(target: Target) -> None:
    if not target.safety.exhaustive:
        pytest.skip(NOT_EXHAUSTIVE)


def _probe_params() -> list[Any]:
    return [
        pytest.param(p, marks=pytest.mark.rule(f"silent.{p.zone}"), id=f"{p.zone}-{index}")
        for index, p in enumerate(SILENT_PROBES)
    ]


@pytest.mark.parametrize("probe", _probe_params())
def test_create_assistant_probe(
    api: ApiSession, target: Target, observations: ObservationLog, probe: SilentProbe
) -> None:
    _needs_writes(target)
    payload = {**_base(target), **probe.override}
    exchange = api.create_assistant(payload)
    observations.record(
        f"silent.{probe.zone}",
        probe.label,
        exchange,
        answer=answer_of(exchange),
        decision=_decision(probe.expect, probe.field),
        agrees=_agrees(probe.expect, exchange, probe.field),
    )
    _no_server_error(exchange, probe.label)


@pytest.mark.rule("silent.string-trimming")
def test_padded_name_echo(api: ApiSession, target: Target, observations: ObservationLog) -> None:
    _needs_writes(target)
    base = _base(target)
    padded = f"  {base['name']}  "
    exchange = api.create_assistant({**base, "name": padded})
    body = exchange.json()
    data = body.get("data") if isinstance(body, dict) else None
    echoed = data.get("name") if isinstance(data, dict) else None
    answer = (
        f"accepted (201), data.name {short(echoed)}"
        if exchange.status == 201
        else answer_of(exchange)
    )
    observations.record(
        "silent.string-trimming",
        f"{short(padded)} (padded) as name",
        exchange,
        answer=answer,
        decision="accepted (201), data.name echoed as sent",
        agrees=exchange.status == 201 and echoed == padded,
    )
    _no_server_error(exchange, "a padded name")


@pytest.mark.rule("silent.json-type-leniency")
def test_object_for_tool_ids(api: ApiSession, target: Target, observations: ObservationLog) -> None:
    _needs_writes(target)
    if not target.catalog.tools:
        pytest.skip("the profile has no catalog.tools")
    value = {"0": target.catalog.tools[0]}
    exchange = api.create_assistant({**_base(target), "tool_ids": value})
    observations.record(
        "silent.json-type-leniency",
        f"{short(value)} (an object) for array tool_ids",
        exchange,
        answer=answer_of(exchange),
        decision=_decision("reject", "tool_ids"),
        agrees=_agrees("reject", exchange, "tool_ids"),
    )
    _no_server_error(exchange, "an object for tool_ids")


# -- error shapes: every probe here is documented-invalid or no API route, so it creates nothing


@pytest.mark.rule("silent.error-shapes")
def test_array_item_error_key(
    api: ApiSession, target: Target, observations: ObservationLog
) -> None:
    exchange = api.create_assistant({**_base(target), "tool_ids": [UNKNOWN_ID]})
    observations.record(
        "silent.error-shapes",
        "an unknown tool id in tool_ids: the errors key",
        exchange,
        answer=answer_of(exchange),
        decision="422 keyed by tool_ids or tool_ids.0 (both name the field)",
        agrees=exchange.status == 422 and _keyed(exchange, "tool_ids"),
    )
    _no_server_error(exchange, "an unknown tool id")


@pytest.mark.rule("silent.error-shapes")
def test_create_assistant_422_message(
    api: ApiSession, target: Target, observations: ObservationLog
) -> None:
    payload = {k: v for k, v in _base(target).items() if k != "name"}
    exchange = api.create_assistant(payload)
    body = exchange.json()
    message = body.get("message") if isinstance(body, dict) else None
    observations.record(
        "silent.error-shapes",
        "the 422 message text of create-assistant (name missing)",
        exchange,
        answer=f"{exchange.status}, message {short(message)}",
        decision="422 with a string message (any text)",
        agrees=exchange.status == 422 and isinstance(message, str),
    )
    _no_server_error(exchange, "a create-assistant request without name")


def _raw(api: ApiSession, target: Target, method: str, url: str) -> Exchange:
    """One request outside the two operations, counted in the budget and recorded."""
    return api.raw(method, url, b"{}" if method == "POST" else b"")


@pytest.mark.parametrize(
    ("label", "method", "path", "status"),
    [
        ("POST to an unknown route under the base URL", "POST", "/replyguard-no-such-route", 404),
        ("GET on the create-assistant path", "GET", None, 405),
    ],
)
@pytest.mark.rule("silent.error-shapes")
def test_route_errors(
    api: ApiSession,
    target: Target,
    observations: ObservationLog,
    label: str,
    method: str,
    path: str | None,
    status: int,
) -> None:
    url = target.url("create_assistant") if path is None else target.base_url.rstrip("/") + path
    exchange = _raw(api, target, method, url)
    content_type = exchange.headers.get("content-type", "").split(";")[0]
    observations.record(
        "silent.error-shapes",
        label,
        exchange,
        answer=f"{exchange.status} {content_type or 'no content type'}: {exchange.text[:80]!r}",
        decision=f"{status} with a JSON body",
        agrees=exchange.status == status and exchange.json() is not None,
    )
    _no_server_error(exchange, label)


# -- generate-reply probes: each one is a paid reply on a real target -----------------------


def _reply_body(target: Target, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assistant_id": target.assistants.own,
        "customer_identifier": f"rg-silent-{uuid.uuid4().hex[:10]}",
        "message": "Hello",
    }
    body.update(changes)
    return body


def _reply_answer(exchange: Exchange) -> str:
    if exchange.status == 200:
        return "accepted (200)"
    return answer_of(exchange)


@pytest.mark.parametrize(
    ("label", "change", "name"),
    [
        ('"<own id>" (numeric string) for integer assistant_id', "assistant_id", "assistant_id"),
        ('[["a", "b"]] (a JSON list) for object variables', "variables", "variables"),
    ],
)
@pytest.mark.rule("silent.json-type-leniency")
def test_generate_reply_type_leniency(
    api: ApiSession,
    target: Target,
    observations: ObservationLog,
    label: str,
    change: str,
    name: str,
) -> None:
    _needs_exhaustive(target)
    value: Any = str(target.assistants.own) if change == "assistant_id" else [["a", "b"]]
    exchange = api.generate_reply(_reply_body(target, **{change: value}))
    observations.record(
        "silent.json-type-leniency",
        label,
        exchange,
        answer=_reply_answer(exchange),
        decision=f"rejected with 422 keyed by {name}",
        agrees=exchange.status == 422 and _keyed(exchange, name),
    )
    _no_server_error(exchange, label)


@pytest.mark.rule("silent.string-trimming")
def test_padded_customer_identifier(
    api: ApiSession, target: Target, observations: ObservationLog
) -> None:
    _needs_exhaustive(target)
    padded = f"  rg-pad-{uuid.uuid4().hex[:10]}  "
    exchange = api.generate_reply(_reply_body(target, customer_identifier=padded))
    body = exchange.json()
    echoed = body.get("customer_identifier") if isinstance(body, dict) else None
    answer = (
        f"accepted (200), customer_identifier echoed {short(echoed)}"
        if exchange.status == 200
        else _reply_answer(exchange)
    )
    observations.record(
        "silent.string-trimming",
        f"{short(padded)} (padded) as customer_identifier",
        exchange,
        answer=answer,
        decision="accepted (200), customer_identifier echoed byte for byte",
        agrees=exchange.status == 200 and echoed == padded,
    )
    _no_server_error(exchange, "a padded customer_identifier")


@pytest.mark.rule("silent.error-shapes")
def test_generate_reply_422_message(
    api: ApiSession, target: Target, observations: ObservationLog
) -> None:
    _needs_exhaustive(target)
    exchange = api.generate_reply({"assistant_id": target.assistants.own, "message": "Hello"})
    body = exchange.json()
    message = body.get("message") if isinstance(body, dict) else None
    observations.record(
        "silent.error-shapes",
        "the 422 message text of generate-reply (customer_identifier missing)",
        exchange,
        answer=f"{exchange.status}, message {short(message)}",
        decision="422 with a string message (any text)",
        agrees=exchange.status == 422 and isinstance(message, str),
    )
    _no_server_error(exchange, "a generate-reply request without customer_identifier")
