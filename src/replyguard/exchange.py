"""One request and its answer, as the suite saw it: what a failure report reproduces."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from replyguard.masking import MASK, mask_secrets, masked_curl

__all__ = ["BODIES_FOLDER", "Exchange", "bodies_dir"]

#: The folder, beside the run's first report file, that holds the bodies too long for a
#: reproduction's line (``--data-binary @FILE``).
BODIES_FOLDER = "replyguard-bodies"


def bodies_dir(reports: Iterable[Path | None], state_dir: Path | None = None) -> Path:
    """Where a run keeps its reproductions' long bodies.

    Beside the first report file the run writes; with none, in ``.replyguard/bodies`` under
    ``state_dir`` (default: the working directory), beside the remembered last report.
    """
    for report in reports:
        if report is not None:
            return report.parent / BODIES_FOLDER
    return (state_dir or Path()) / ".replyguard" / "bodies"


def _masked_headers(
    headers: httpx.Headers, roles: Mapping[str, str] | None
) -> tuple[dict[str, str], str | None]:
    """The headers with the credential masked, and the profile role of the token sent.

    Recorded already masked: an Exchange may be printed in a traceback or a report. With the
    profile's tokens known (``roles``: each token's name in a reproduction), a bearer that is none
    of them (a made-up token of a 401 test) is kept, so its reproduction sends what the test
    sent.
    """
    masked, role = {}, None
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme, _, credential = value.partition(" ")
            role = roles.get(credential) if roles and credential else None
            made_up = roles is not None and scheme.lower() == "bearer" and credential
            if not made_up or role is not None:
                value = f"{scheme} {MASK}".strip() if credential else MASK
        masked[name] = value
    return masked, role


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
    token_role: str | None = None
    """The profile role of the token sent (its reproduction reads the matching variable)."""
    response: httpx.Response | None = field(default=None, repr=False)
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)
    #: When the request was sent and its answer read (time.monotonic; 0: not timed).
    sent_at: float = 0.0
    answered_at: float = 0.0

    @classmethod
    def from_response(
        cls, response: httpx.Response, roles: Mapping[str, str] | None = None
    ) -> Exchange:
        """Record an httpx response together with the request that produced it.

        ``roles``: the profile's tokens' roles by token (``Tokens.reproduction_roles``), to name
        the role of the token sent (None: mask any).
        """
        request = response.request
        headers, role = _masked_headers(request.headers, roles)
        return cls(
            method=request.method,
            url=str(request.url),
            request_headers=headers,
            token_role=role,
            request_body=request.content,
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            text=response.text,
            elapsed=_elapsed(response),
            response=response,
        )

    @classmethod
    def unanswered(cls, request: httpx.Request, roles: Mapping[str, str] | None = None) -> Exchange:
        """A request that got no usable answer (a transport fault): status 0, no body."""
        headers, role = _masked_headers(request.headers, roles)
        return cls(
            method=request.method,
            url=str(request.url),
            request_headers=headers,
            token_role=role,
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

    def curl(self, secrets: tuple[str, ...] = (), bodies: Path | None = None) -> str:
        """A curl command reproducing the request, tokens masked; long bodies in ``bodies``."""
        return masked_curl(
            self.method,
            self.url,
            self.request_headers,
            self.request_body,
            secrets,
            bodies,
            self.token_role,
            keep_bearer=self._made_up_bearer(),
        )

    def _made_up_bearer(self) -> bool:
        """Was the bearer sent no profile token (recorded as sent, not masked)?"""
        value = next(
            (v for k, v in self.request_headers.items() if k.lower() == "authorization"), ""
        )
        return value.lower().startswith("bearer ") and MASK not in value

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
