"""One request and its answer, as the suite saw it: what a failure report reproduces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from replyguard.masking import MASK, mask_secrets, masked_curl

__all__ = ["Exchange"]


def _masked_headers(headers: httpx.Headers) -> dict[str, str]:
    # Recorded already masked: an Exchange may be printed in a traceback or a report.
    masked = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {MASK}".strip()
        masked[name] = value
    return masked


@dataclass(slots=True)
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    headers: dict[str, str]
    text: str
    elapsed: float = 0.0
    response: httpx.Response | None = field(default=None, repr=False)
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)
    #: When the request was sent and its answer read (time.monotonic; 0: not timed).
    sent_at: float = 0.0
    answered_at: float = 0.0

    @classmethod
    def from_response(cls, response: httpx.Response) -> Exchange:
        """Record an httpx response together with the request that produced it."""
        request = response.request
        return cls(
            method=request.method,
            url=str(request.url),
            request_headers=_masked_headers(request.headers),
            request_body=request.content,
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            text=response.text,
            elapsed=_elapsed(response),
            response=response,
        )

    @classmethod
    def unanswered(cls, request: httpx.Request) -> Exchange:
        """A request that got no usable answer (a transport fault): status 0, no body."""
        return cls(
            method=request.method,
            url=str(request.url),
            request_headers=_masked_headers(request.headers),
            request_body=request.content,
            status=0,
            headers={},
            text="",
        )

    def json(self) -> Any:
        """The answer's JSON body, or None when it is not JSON."""
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.text)
            except ValueError:
                self._json = None
        return self._json

    def curl(self, secrets: tuple[str, ...] = ()) -> str:
        """A curl command reproducing the request, tokens masked."""
        return masked_curl(self.method, self.url, self.request_headers, self.request_body, secrets)

    def summary(self, secrets: tuple[str, ...] = (), limit: int = 300) -> str:
        """``HTTP 422 {...}``, shortened, tokens masked."""
        body = self.text if len(self.text) <= limit else self.text[:limit] + "…"
        return mask_secrets(f"HTTP {self.status} {body}", secrets)


def _elapsed(response: httpx.Response) -> float:
    """Seconds the exchange took (0 when httpx did not time it: a mocked transport's answer)."""
    try:
        return response.elapsed.total_seconds()
    except RuntimeError:
        return 0.0
