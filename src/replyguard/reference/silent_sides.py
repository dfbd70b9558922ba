"""Two correct variants on the other side of every point the documents leave open.

The documents give a type column, ranges, enums, required fields, the engine-mode rules, the
status codes and the bodies of 201/401/402/404/422/429. Everything below is *not* settled by
them, so a correct server may answer either way. Whatever the reference does, at least one of
these variants does the other; both keep every documented rule.

| silent point                       | reference         | laravel-lenient     | strict-json       |
|------------------------------------|-------------------|---------------------|-------------------|
| numeric string for integer "123"   | 422               | accepted: 123       | 422               |
| numeric string for number "0.5"    | 422               | accepted: 0.5       | 422               |
| integral float for integer 20.0    | accepted          | accepted            | 422               |
| boolean for integer (true)         | 422               | accepted: 1         | 422               |
| 0 / 1 / "0" / "1" for boolean      | 422               | accepted            | 422               |
| "true" for boolean                 | 422               | 422 (as Laravel)    | 422               |
| JSON list for an object            | 422               | accepted            | 422               |
| null in an optional field          | 422 (type)        | absent              | absent            |
| "" in an optional field            | kept: url 422     | null: absent        | kept: url 422     |
| whitespace-only optional string    | kept              | null: absent        | kept              |
| incoming strings trimmed           | no                | yes (echo too)      | no                |
| blank required ("", "   ")         | 422 required      | 422 required        | 422 required      |
| url: ftp:// and other schemes      | 422               | accepted            | 422               |
| url: IRI host https://ăª           | accepted          | accepted            | 422               |
| url: dotless host http://localhost | accepted          | accepted            | 422               |
| url: one-character host http://0   | accepted          | 422 (Laravel regex) | 422               |
| array-item error keys              | tool_ids.0        | tool_ids.0          | tool_ids          |
| generate-reply 422 message         | first error (L9+) | given data invalid  | first error       |
| unknown route 404 message          | The route x ...   | "" (Laravel 8)      | Not Found         |
| wrong method 405 message           | ... for route x.  | ... for this route. | Method Not Allowed|
| post_call_schema item keys needed  | name, type        | name, type          | name, type, desc. |
| tools item keys needed             | type              | type                | type, description |
| filler_config keys                 | the 4 categories  | any                 | the 4 categories  |
| unknown extra properties           | ignored           | ignored             | 422 prohibited    |

Why strict-json may reject unknown properties: the documents list every field of both request
bodies and never say that others are ignored, so a request with an unknown property is outside
the documented input, and an answer of 422 (a documented status for invalid input) breaks no
stated rule. The same reasoning lets it require every key of the documents' item examples.
A post_call_schema item's name and type, and a tool's type, are required on every side: the
contract takes them as documented (rules ``assistant.post_call_schema.shape`` and
``assistant.tools.shape``); only the description is a silent point.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .behaviour import FAITHFUL, Answer, Behaviour
from .dialect import Dialect, laravel_input
from .payload import parse_input

__all__ = ["LARAVEL_LENIENT", "STRICT_JSON"]

LARAVEL_DIALECT = Dialect(
    integers="php",
    numbers="php",
    booleans="php",
    lists_as_objects=True,
    null_is_absent=True,
    item_keys=True,
    urls="laravel",
    items="named",
    filler_keys=False,
    reject_unknown=False,
    route_errors="laravel8",
)

STRICT_DIALECT = Dialect(
    integers="exact",
    numbers="json",
    booleans="json",
    lists_as_objects=False,
    null_is_absent=True,
    item_keys=False,
    urls="ascii",
    items="example",
    filler_keys=True,
    reject_unknown=True,
    route_errors="plain",
)


def _laravel_parse(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The JSON input after a default Laravel app's TrimStrings and ConvertEmptyStringsToNull."""
    return laravel_input(parse_input(body, content_type))


def _laravel8_message(answer: Answer) -> Answer:
    """Laravel 8's ValidationException message for generate-reply's 422."""
    if answer.operation == "generate_reply" and answer.outcome == "invalid":
        answer.body["message"] = "The given data was invalid."
    return answer


LARAVEL_LENIENT: Behaviour = replace(
    FAITHFUL, dialect=LARAVEL_DIALECT, parse_input=_laravel_parse, respond=_laravel8_message
)
"""A stock Laravel 8 app: its validator's coercions, its global middleware, its messages."""

STRICT_JSON: Behaviour = replace(FAITHFUL, dialect=STRICT_DIALECT)
"""A strict JSON API: exact JSON types, no coercion, unknown properties rejected."""
