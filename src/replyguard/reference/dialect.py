"""How a server reads JSON where the documents give a type column and nothing more.

The documents say ``integer``, ``number``, ``boolean``, ``string``, ``object`` and ``array`` and
show examples; they do not say whether ``"123"``, ``20.0``, ``true`` or a JSON list pass, how
array-item errors are keyed, or which URL schemes a ``url`` field takes. A :class:`Dialect`
records one server's answer to each of those questions. The reference server has one; the
correct variants ``laravel-lenient`` and ``strict-json`` take the other side of each.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_DIALECT",
    "INT_MAX",
    "INT_MIN",
    "Dialect",
    "as_integer",
    "as_number",
    "boolean_of",
    "integer_of",
    "laravel_input",
    "number_of",
    "object_of",
    "safe_key",
    "url_ok",
]


@dataclass(slots=True, frozen=True)
class Dialect:
    """One server's reading of the points the documents leave open (defaults: the reference)."""

    #: "json": 5 and 5.0; "exact": 5 only; "php": Laravel's FILTER_VALIDATE_INT ("5", 5.0, true).
    integers: str = "json"
    #: "json": JSON numbers; "php": also PHP ``is_numeric`` strings ("0.5", "1e2").
    numbers: str = "json"
    #: "json": true/false; "php": Laravel's boolean rule (also 0, 1, "0", "1").
    booleans: str = "json"
    #: Laravel's ``array`` rule: a JSON list passes where an object is documented.
    lists_as_objects: bool = False
    #: ``null`` in an optional field means "absent" (``nullable``), instead of a type error.
    null_is_absent: bool = False
    #: Array-item errors keyed ``tool_ids.0`` (Laravel) or at the top-level field.
    item_keys: bool = True
    #: "http": ``https?://`` then no whitespace; "laravel": Laravel's url regex (ftp://, IRIs,
    #: dotless hosts); "ascii": ASCII http(s) with a dotted host.
    urls: str = "http"
    #: Item keys required: "named" (post_call_schema name+type, tools type) or "example"
    #: (every key the documents' examples carry, description too).
    items: str = "named"
    #: filler_config keys limited to the four documented categories.
    filler_keys: bool = True
    #: Unknown request properties: ignored, or rejected with 422.
    reject_unknown: bool = False
    #: Unknown-route and wrong-method bodies: "laravel9", "laravel8" or "plain".
    route_errors: str = "laravel9"


DEFAULT_DIALECT = Dialect()

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


def as_integer(value: Any) -> int | None:
    """Return ``value`` as an int if it is a JSON integer (``5`` or ``5.0``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT_MIN <= value <= INT_MAX else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
        return number if INT_MIN <= number <= INT_MAX else None
    return None


def as_number(value: Any) -> int | float | None:
    """Return ``value`` if it is a finite JSON number (not a boolean), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


_PHP_INT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
# PHP 8's is_numeric: optional surrounding whitespace, sign, digits with an optional point,
# optional exponent. No hex, no "inf"/"nan".
_PHP_NUMERIC = re.compile(
    r"[ \t\n\r\v\f]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\r\v\f]*"
)
# PHP's (string) cast of a float switches to exponent notation from 1e15 (precision 14), and
# FILTER_VALIDATE_INT rejects that form.
_PHP_FLOAT_DIGITS = 1e15


def integer_of(value: Any, mode: str) -> int | None:
    """``value`` as an int under ``mode`` (see :attr:`Dialect.integers`), else None."""
    if mode == "json":
        return as_integer(value)
    if mode == "exact":
        if type(value) is int and INT_MIN <= value <= INT_MAX:
            return value
        return None
    # "php": filter_var($value, FILTER_VALIDATE_INT) on the decoded JSON value.
    if isinstance(value, bool):
        return 1 if value else None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < _PHP_FLOAT_DIGITS:
            return int(value)
        return None
    if isinstance(value, str):
        text = value.strip(" \t\n\r\v")
        if _PHP_INT.fullmatch(text) is None:
            return None
        value = int(text)
    if isinstance(value, int) and INT_MIN <= value <= INT_MAX:
        return value
    return None


def number_of(value: Any, mode: str) -> int | float | None:
    """``value`` as a finite number under ``mode`` (see :attr:`Dialect.numbers`), else None."""
    number = as_number(value)
    if number is not None or mode != "php" or not isinstance(value, str):
        return number
    if _PHP_NUMERIC.fullmatch(value) is None:
        return None
    text = value.strip(" \t\n\r\v\f")
    parsed: int | float = int(text) if _PHP_INT.fullmatch(text) else float(text)
    return parsed if math.isfinite(parsed) else None


def boolean_of(value: Any, mode: str) -> bool | None:
    """``value`` as a bool under ``mode`` (see :attr:`Dialect.booleans`), else None."""
    if isinstance(value, bool):
        return value
    # Laravel: in_array($value, [true, false, 0, 1, '0', '1'], true): strict, so not 1.0.
    if (
        mode == "php"
        and (type(value) is int or isinstance(value, str))
        and value in (0, 1, "0", "1")
    ):
        return value in (1, "1")
    return None


def object_of(value: Any, lists: bool) -> dict[str, Any] | None:
    """``value`` as an object; with ``lists`` a JSON list is a PHP array keyed 0, 1, ..."""
    if isinstance(value, dict):
        return value
    if lists and isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    return None


# Laravel's ``url`` rule (ValidatesAttributes::validateUrl, derived from Symfony's UrlValidator
# 5.0.7): a long list of IANA schemes, then a host of Unicode letters, digits and symbols.
# Python's ``re`` has no \pL / \pN / \pS, so the subject is first mapped to ASCII stand-ins
# (letter -> "a", digit -> "0", symbol -> "^", anything else -> a space, which nothing matches).
# (The ms-* family, listed one by one in Laravel, is any ms-* scheme here.)
_LARAVEL_SCHEMES = (
    "aaa|aaas|about|acap|acct|acd|acr|adiumxtra|adt|afp|afs|aim|amss|android|appdata|apt|ark|"
    "attachment|aw|barion|beshare|bitcoin|bitcoincash|blob|bolo|browserext|calculator|callto|"
    "cap|cast|casts|chrome|chrome-extension|cid|coap|coap\\+tcp|coap\\+ws|coaps|coaps\\+tcp|"
    "coaps\\+ws|com-eventbrite-attendee|content|conti|crid|cvs|dab|data|dav|diaspora|dict|did|"
    "dis|dlna-playcontainer|dlna-playsingle|dns|dntp|dpp|drm|drop|dtn|dvb|ed2k|elsi|example|"
    "facetime|fax|feed|feedready|file|filesystem|finger|first-run-pen-experience|fish|fm|ftp|"
    "fuchsia-pkg|geo|gg|git|gizmoproject|go|gopher|graph|gtalk|h323|ham|hcap|hcp|http|https|"
    "hxxp|hxxps|hydrazone|iax|icap|icon|im|imap|info|iotdisco|ipn|ipp|ipps|irc|irc6|ircs|iris|"
    "iris\\.beep|iris\\.lwz|iris\\.xpc|iris\\.xpcs|isostore|itms|jabber|jar|jms|keyparc|lastfm|"
    "ldap|ldaps|leaptofrogans|lorawan|lvlt|magnet|mailserver|mailto|maps|market|message|mid|mms|"
    # The ms-* family is listed one by one in Laravel; any ms-* scheme here.
    "modem|mongodb|moz|ms-[a-z-]+|msnim|msrp|msrps|mss|mtqp|mumble|mupdate|mvn|news|nfs|ni|nih|"
    "nntp|notes|ocf|oid|onenote|onenote-cmd|opaquelocktoken|openpgp4fpr|pack|palm|paparazzi|"
    "payto|pkcs11|platform|pop|pres|prospero|proxy|pwid|psyc|pttp|qb|query|redis|rediss|reload|"
    "res|resource|rmi|rsync|rtmfp|rtmp|rtsp|rtsps|rtspu|s3|secondlife|service|session|sftp|sgn|"
    "shttp|sieve|simpleledger|sip|sips|skype|smb|sms|smtp|snews|snmp|soap\\.beep|soap\\.beeps|"
    "soldat|spiffe|spotify|ssh|steam|stun|stuns|submit|svn|tag|teamspeak|tel|teliaeid|telnet|"
    "tftp|tg|things|thismessage|tip|tn3270|tool|ts3server|turn|turns|tv|udp|unreal|urn|ut2004|"
    "v-event|vemmi|ventrilo|videotex|vnc|view-source|wais|webcal|wpid|ws|wss|wtai|wyciwyg|xcon|"
    "xcon-userid|xfire|xmlrpc\\.beep|xmlrpc\\.beeps|xmpp|xri|ymsgr|z39\\.50|z39\\.50r|z39\\.50s"
)
_L, _N, _S = "a-z", "0-9", r"$+<=>^`|~"  # the ASCII members of \pL, \pN and \pS
_LARAVEL_URL = re.compile(
    rf"(?:{_LARAVEL_SCHEMES})://"
    rf"(?:(?:(?:[_.{_L}{_N}-]|%[0-9a-f]{{2}})+:)?(?:[_.{_L}{_N}-]|%[0-9a-f]{{2}})+@)?"
    rf"(?:[{_L}{_N}{_S}\-_.]+(?:\.?(?:[{_L}{_N}]|xn--[{_L}{_N}-]+)+\.?)"
    rf"|\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}|\[[0-9a-f:.]+\])"
    rf"(?::[0-9]+)?"
    rf"(?:/(?:[{_L}{_N}\-._~!$&'()*+,;=:@]|%[0-9a-f]{{2}})*)*"
    rf"(?:\?(?:[{_L}{_N}\-._~!$&'\[\]()*+,;=:@/?]|%[0-9a-f]{{2}})*)?"
    rf"(?:\#(?:[{_L}{_N}\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{{2}})*)?",
    re.IGNORECASE,
)
_HTTP_URL = re.compile(r"https?://\S+")
# RFC 3986 characters only, a registered name with at least one dot.
_ASCII_URL = re.compile(
    r"https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]*[A-Za-z0-9]"
    r"(?::[0-9]{1,5})?(?:[/?#][\x21-\x7e]*)?"
)


def _ascii_stand_ins(text: str) -> str:
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        category = unicodedata.category(char)[0]
        out.append({"L": "a", "N": "0", "S": "^"}.get(category, " "))
    return "".join(out)


def url_ok(value: str, mode: str) -> bool:
    """Whether ``value`` passes the url check of ``mode`` (see :attr:`Dialect.urls`)."""
    if mode == "laravel":
        # PHP's $ also matches before one final newline; TrimStrings has removed it anyway.
        return _LARAVEL_URL.fullmatch(_ascii_stand_ins(value)) is not None
    if mode == "ascii":
        return _ASCII_URL.fullmatch(value) is not None
    return _HTTP_URL.fullmatch(value) is not None


def _trim_and_nullify(value: Any) -> Any:
    if isinstance(value, str):
        # Laravel 8's TrimStrings is PHP's trim(), then ConvertEmptyStringsToNull.
        trimmed = value.strip(" \t\n\r\0\x0b")
        return trimmed if trimmed else None
    if isinstance(value, dict):
        return {key: _trim_and_nullify(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trim_and_nullify(item) for item in value]
    return value


def laravel_input(data: dict[str, Any]) -> dict[str, Any]:
    """The input after a default Laravel app's TrimStrings and ConvertEmptyStringsToNull."""
    try:
        cleaned = _trim_and_nullify(data)
    except RecursionError:
        return {}  # deeper than PHP would decode (json_decode's depth 512): no input
    return cleaned if isinstance(cleaned, dict) else {}


def safe_key(key: str) -> str:
    """An error-bag key that UTF-8 can carry (lone surrogates escaped)."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")
