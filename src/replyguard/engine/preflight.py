"""Before a run spends anything: is the target there, and does it answer like this API?"""

from __future__ import annotations

import httpx

from replyguard.profile import Target
from replyguard.wire import cannot_reach

__all__ = ["preflight"]

#: Statuses the documents (or the contract's decisions) give generate-reply.
_DOCUMENTED = {200, 401, 402, 404, 413, 422, 429}


def preflight(target: Target, *, transport: httpx.BaseTransport | None = None) -> str | None:
    """One line saying why the run cannot start, or None when the target looks like the API.

    An unauthenticated generate-reply costs nothing and proves the most: the API answers it
    with a JSON 401 (or at worst another documented status with a JSON body). A wrong base
    path answers 404 with an HTML page, a proxy 502, a stub 501: none of that is worth
    minutes of pacing.
    """
    url = target.url("generate_reply")
    try:
        with httpx.Client(timeout=10, transport=transport) as client:
            response = client.post(url, json={}, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        return f"target unreachable: {cannot_reach(url, exc)}"
    content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no type"
    try:
        body = response.json()
    except ValueError:
        body = None
    looks_like_api = response.status_code in _DOCUMENTED and isinstance(body, dict)
    if response.status_code == 404 and isinstance(body, dict) and "error_code" not in body:
        # The documented 404 is ASSISTANT_NOT_FOUND; a bare 404 is a route that is not there.
        looks_like_api = False
    if (
        response.status_code in (301, 302, 303, 307, 308)
        and "login" in response.headers.get("location", "").lower()
    ):
        # An auth-protected route that redirects to a login page (Laravel's web guard): the
        # API is there, and misbehaves; the auth rules judge that, with the evidence.
        looks_like_api = True
    if looks_like_api:
        return None
    return (
        f"{url} answered {response.status_code} {content_type}: is base_url right? "
        f"(the API answers a request without a token with a JSON 401)"
    )
