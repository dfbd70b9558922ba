"""Negative cases that cannot cry wolf: every case the suite would send as documented-invalid
is refused by every correct side of every silent zone.

Run: ``.venv/bin/python benchmarks/bench_negative_cases.py [--cases 100000] [--seed 1]``.

No HTTP: the cases are judged in-process by the reference's own validation functions under
three correct behaviours (the reference, ``laravel-lenient`` and ``strict-json``: the lenient
and the strict side of every silent zone). The cases come from

- schemathesis' negative mode over the contract narrowed to the reference's fixtures (what
  ``contract_tests/test_schemathesis.py`` generates; ``--schemathesis N`` of them, since each
  create-assistant case costs tens of milliseconds to draw), and
- replyguard's own mutations of documented-valid bodies: one to three fields replaced by
  values from ``replyguard.strategies`` (outside values, type confusions, lenient spellings,
  overlong strings) and a pool of edge values (blank, padded, numeric and boolean spellings,
  null, lists, objects, URLs, time-zone names), removed, or joined by an unknown key.

Each case is classified by the suite's own classifier (``suite.schemas.InputSpace``); the ones
it calls *invalid* are exactly the ones a run would send and judge by
``contract.negative-data-rejected``. None of them may pass a correct variant's validation.
Prints the counts; exits 1 (with examples) when a correct variant accepts one.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replyguard import spec, strategies
from replyguard.profile import MODES, Target, parse_target
from replyguard.reference.assistant_rules import validate_assistant
from replyguard.reference.behaviour import FAITHFUL, Behaviour
from replyguard.reference.launch import running_reference
from replyguard.reference.silent_sides import LARAVEL_LENIENT, STRICT_JSON
from replyguard.reference.store import Catalogue, Store, open_database
from replyguard.reference.validation import validate_reply
from replyguard.suite.schemas import InputSpace, schemathesis_schema

#: The correct behaviours: the reference, and the two sides of every silent zone.
CORRECT: dict[str, Behaviour] = {
    "reference": FAITHFUL,
    "laravel-lenient": LARAVEL_LENIENT,
    "strict-json": STRICT_JSON,
}
OPERATIONS = ("generate_reply", "create_assistant")
#: The seeded account the reference profile's primary token belongs to.
ACCOUNT = 1

# Edge values any field may get: the spellings the silent zones are about, and plain wrong ones.
EDGE_VALUES: tuple[Any, ...] = (
    None, True, False, 0, 1, -1, 2, 7, 101, 0.5, 1.5, 20.0, -0.0, 1e300, 2**63, "",
    " ", "\t", "\u00a0", "\u200b", "\ufeff", "x", " x ", "0", "1", "-1", " 1 ", "1.0",
    "0.5", ".5", "1e3", "+1", "true", "false", "TRUE", "yes", "null", "abc", "😀",
    "x" * 256, "x" * 2049, [], [1], ["a"], [{}], [None], {}, {"a": 1}, {"0": 1},
    {"value": True}, "https://example.com/hook", "ftp://example.com", "http://localhost",
    "http://0", "https://ăª.com", "javascript:alert(1)", "America/New_York", "utc",
    "Mars/Olympus", "Europe/Bucharest ", "pipeline", "PIPELINE", " pipeline", "inbound",
    "outbound", "prompt", "function", "vad", "none", "office",
)  # fmt: skip


@dataclass(slots=True)
class Tally:
    generated: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def _catalogue(folder: Path) -> Catalogue:
    """The reference's seeded catalogue, read in-process from a fresh database."""
    open_database(folder / "bench.sqlite3").close()
    store = Store(folder / "bench.sqlite3")
    try:
        return store.catalogue()
    finally:
        store.close()


def _acceptor(operation: str, behaviour: Behaviour, catalogue: Catalogue) -> Callable[[Any], bool]:
    """Whether ``behaviour`` would accept a body (its validation passes), in-process."""

    def accepts(body: Any) -> bool:
        raw = json.dumps(body, ensure_ascii=False).encode()
        data = behaviour.parse_input(raw, "application/json")
        if operation == "generate_reply":
            request, _ = validate_reply(data, behaviour.reply_rules, behaviour.dialect)
            return request is not None
        config, _ = validate_assistant(
            data,
            catalogue,
            ACCOUNT,
            lambda _phone: False,
            behaviour.assistant_policy,
            behaviour.dialect,
        )
        return config is not None

    return accepts


# -- replyguard's own mutations -------------------------------------------------------------


def _field_values(operation: str, name: str, target: Target) -> tuple[Any, ...]:
    """The values the strategies give one field, besides the edge values."""
    if operation == "generate_reply":
        own = target.assistants.own
        return {
            "assistant_id": (own, 2_000_000_000, 1.5, "twenty", {"id": 1}, str(own), True),
            "customer_identifier": ("+14155550100", "x" * 255, ["+1"], {"number": "+1"}),
            "message": ("Hello", "x" * 5000, {"text": "hi"}, ["hi"]),
            "variables": ({"name": "John"}, ["name=John"], "name=John", 42, {"n": {"a": [1]}}),
        }.get(name, ())
    values: list[Any] = []
    kind = strategies.field_type(name)
    if name in spec.ranged_fields():
        values += [*strategies.boundary_values(name), *strategies.outside_values(name)]
    if name in spec.max_length_fields():
        values.append(strategies.overlong_value(name))
    if kind in ("integer", "number", "boolean", "string", "array", "object"):
        values += strategies.type_confusions(name)
        valid = values[0] if values else None
        values += strategies.lenient_spellings(name, valid)
    enum = spec.field_schema(name).get("enum")
    if enum:
        values += [*enum, *(str(v).upper() for v in enum), *(f" {v} " for v in enum)]
    return tuple(values)


def _valid_bodies(operation: str, target: Target) -> list[dict[str, Any]]:
    if operation == "generate_reply":
        return [
            {"assistant_id": target.assistants.own, "customer_identifier": "+1", "message": "Hi"},
            {
                "assistant_id": target.assistants.own,
                "customer_identifier": "john@example.com",
                "message": "Hello there",
                "variables": {"customer_name": "John"},
            },
        ]
    return [strategies.minimal_assistant(target.catalog, mode) for mode in MODES]


def mutations(target: Target, operation: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Documented-valid bodies with one to three fields broken, without end."""
    bases = _valid_bodies(operation, target)
    schema = spec.load_spec()["components"]["schemas"][
        "GenerateReplyRequest" if operation == "generate_reply" else "CreateAssistantRequest"
    ]
    names = sorted(schema["properties"])
    pools = {name: (*_field_values(operation, name, target), *EDGE_VALUES) for name in names}
    while True:
        body = dict(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.12:
                body.pop(rng.choice(names), None)
            elif roll < 0.18:
                body[rng.choice(("extra", "assistantId", "Name", ""))] = rng.choice(EDGE_VALUES)
            else:
                name = rng.choice(names)
                body[name] = rng.choice(pools[name])
        yield body


# -- schemathesis' negative mode ------------------------------------------------------------


def schemathesis_cases(target: Target, operation: str, count: int, seed: int) -> list[Any]:
    """``count`` bodies of schemathesis' negative mode, as the suite draws them."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode

    path = getattr(target.paths, operation)
    strategy = schemathesis_schema(target)[path]["POST"].as_strategy(
        generation_mode=GenerationMode.NEGATIVE
    )
    bodies: list[Any] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def draw(case: Any) -> None:
        if isinstance(case.body, dict | list | int | float | str) or case.body is None:
            bodies.append(case.body)

    if count:
        draw()
    return bodies


def judge(
    operation: str,
    source: str,
    body: Any,
    space: InputSpace,
    acceptors: dict[str, Callable[[Any], bool]],
    tally: Tally,
) -> None:
    tally.generated[f"{operation} ({source})"] += 1
    if not isinstance(body, dict):
        tally.regions["not a JSON object (sent raw)"] += 1
        return
    region = space.region(body)
    tally.regions[f"{operation} {region}"] += 1
    if region != "invalid":
        return
    for name, accepts in acceptors.items():
        if accepts(body):
            tally.accepted[name] += 1
            if len(tally.examples) < 20:
                tally.examples.append(f"{name} accepts {operation} {json.dumps(body)[:300]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases in all (>= 100000)")
    parser.add_argument(
        "--schemathesis", type=int, default=1500, help="of them from schemathesis, per operation"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="replyguard-bench-neg-") as tmp:
        # The reference's profile (its fixture ids); no case is sent to it.
        with running_reference(folder=Path(tmp) / "ref") as reference:
            target = parse_target(reference.profile, env={})
        catalogue = _catalogue(Path(tmp))
    tally = Tally()
    rng = random.Random(args.seed)
    for operation in OPERATIONS:
        space = InputSpace(target, operation)
        acceptors = {n: _acceptor(operation, b, catalogue) for n, b in CORRECT.items()}
        drawn = schemathesis_cases(target, operation, args.schemathesis, args.seed)
        for body in drawn:
            judge(operation, "schemathesis", body, space, acceptors, tally)
        own = mutations(target, operation, rng)
        for _ in range(max(0, args.cases // len(OPERATIONS) - len(drawn))):
            judge(operation, "mutations", next(own), space, acceptors, tally)
    total = sum(tally.generated.values())
    invalid = sum(n for k, n in tally.regions.items() if k.endswith(" invalid"))
    print(f"negative cases generated: {total} in {time.monotonic() - started:.0f} s")
    for source, n in sorted(tally.generated.items()):
        print(f"  {source}: {n}")
    print(f"classified documented-invalid (a run sends and judges these): {invalid}")
    for region, n in sorted(tally.regions.items()):
        print(f"  {region}: {n}")
    print(
        "accepted by a correct variant: "
        + (", ".join(f"{k} {v}" for k, v in sorted(tally.accepted.items())) or "0")
    )
    for example in tally.examples:
        print(f"  {example}")
    return 1 if tally.accepted else 0


if __name__ == "__main__":
    sys.exit(main())
