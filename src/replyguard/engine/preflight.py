"""Before a run spends anything: is the target there, and does it answer like this API?"""

from __future__ import annotations

import httpx

from replyguard.profile import Target
from replyguard.wire import cannot_reach

__all__ = ["preflight"]

#: Statuses of a route that is not there (a wrong base path), when the body has no error_code.
_NO_ROUTE = {404, 405}
_HINT = "is base_url right?"


def preflight(target: Target, *, transport: httpx.BaseTransport | None = None) -> str | None:
    """One line saying why the run cannot start, or None when the target looks like the API.

    An unauthenticated generate-reply costs nothing and proves the most. A JSON answer on the
    documented path, whatever its status (and whatever content type it declares), is the API: a
    401 as documented, or a 500 from an auth check that crashes, which the auth rules and
    contract.no-server-error then judge with the evidence. HTML, plain text, no answer at all,
    or a bare 404/405 of an unknown route mean a wrong base URL: none of that is worth minutes
    of pacing.
    """
    url = target.url("generate_reply")
    try:
        with httpx.Client(timeout=10, transport=transport) as client:
            response = client.post(url, json={}, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        return f"target unreachable: {cannot_reach(url, exc, hint=_HINT)}"
    content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no type"
    if _is_the_api(response):
        return None
    return (
        f"{url} answered {response.status_code} {content_type}: {_HINT} "
        f"(the API answers a request without a token with a JSON 401)"
    )


def _is_the_api(response: httpx.Response) -> bool:
    if (
        response.status_code in (301, 302, 303, 307, 308)
        and "login" in response.headers.get("location", "").lower()
    ):
        # An auth-protected route that redirects to a login page (Laravel's web guard): the
        # API is there, and misbehaves; the auth rules judge that, with the evidence.
        return True
    try:
        # A JSON object is the API's answer whatever the type it declares: a JSON 401 sent as
        # text/plain is the API with a wrong content type (contract.content-type judges it),
        # where a plain-text or HTML page is something else at that URL.
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    # The documented 404 is ASSISTANT_NOT_FOUND; a bare 404 (or 405) is a route not there.
    return not (response.status_code in _NO_ROUTE and "error_code" not in body)
