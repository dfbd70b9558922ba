"""The errors the client raises, and the mapping from an HTTP answer to one of them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import httpx

from replyguard.masking import mask_secrets
from replyguard.wire import retry_after_seconds, transport_reason

_EXCERPT = 160


class ClientError(Exception):
    """Anything the client raises about an exchange: an HTTP error answer or a transport failure."""


class ApiError(ClientError):
    """The server answered with an error status (or an answer the client cannot use).

    ``str()`` is one line; it never contains the bearer token (the client scrubs it even from
    echoed bodies), so errors can be logged and put in reports as they are.
    """

    expected_status: ClassVar[int | None] = None

    def __init__(
        self,
        status_code: int,
        body: Any,
        request_method: str,
        request_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        now: float | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.status_code = status_code
        self.body = body
        """The decoded JSON body, or the text when the body is not JSON."""
        self.request_method = request_method
        self.request_url = request_url
        self.headers = httpx.Headers(headers or {})
        """The response headers (e.g. ``X-RateLimit-Remaining``)."""
        envelope = body if isinstance(body, dict) else {}
        self.error_code: str | None = _str_or_none(envelope.get("error_code"))
        self.message: str | None = _str_or_none(envelope.get("error")) or _str_or_none(
            envelope.get("message")
        )
        self._derive(now)
        super().__init__(mask_secrets(self._summary(), secrets))

    def _derive(self, now: float | None) -> None:
        """Hook for subclasses to read their own fields from the body and headers."""

    def _summary(self) -> str:
        label = self.error_code or type(self).__name__
        detail = self.message if self.message is not None else _excerpt(self.body)
        line = f"{self.status_code} {label} on {self.request_method} {self.request_url}"
        return f"{line}: {detail}" if detail else line


class AuthenticationError(ApiError):
    """401: missing or wrong bearer token (Laravel: ``{"message": "Unauthenticated."}``)."""

    expected_status = 401


class InsufficientBalance(ApiError):
    """402 INSUFFICIENT_BALANCE: the account cannot pay for the reply."""

    expected_status = 402


class AssistantNotFound(ApiError):
    """404 ASSISTANT_NOT_FOUND: the assistant does not exist or belongs to another account."""

    expected_status = 404


class PayloadTooLarge(ApiError):
    """413: the request body was refused for its size."""

    expected_status = 413


class ValidationFailed(ApiError):
    """422: the request failed validation; ``errors`` maps each field to its messages."""

    expected_status = 422

    def _derive(self, now: float | None) -> None:
        raw = self.body.get("errors") if isinstance(self.body, dict) else None
        errors: dict[str, list[str]] = {}
        if isinstance(raw, dict):
            for field, messages in raw.items():
                items = messages if isinstance(messages, list) else [messages]
                errors[str(field)] = [str(item) for item in items]
        self.errors = errors

    def _summary(self) -> str:
        base = super()._summary()
        if not self.errors:
            return base
        fields = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items())
        return f"{base} ({_one_line(fields)[: _EXCERPT * 2]})"


class RateLimited(ApiError):
    """429: throttled. ``retry_after`` comes from the body, else the ``Retry-After`` header."""

    expected_status = 429

    def _derive(self, now: float | None) -> None:
        self.retry_after: float | None = retry_after_seconds(self.body, self.headers, now=now)

    def _summary(self) -> str:
        base = super()._summary()
        return base if self.retry_after is None else f"{base} (retry after {self.retry_after:g}s)"


class ServerError(ApiError):
    """5xx: the server failed."""


class UnexpectedResponse(ApiError):
    """Any other answer: an undocumented status, a non-JSON body, or a malformed success body."""


_UNSENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.UnsupportedProtocol,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)


class TransportError(ClientError):
    """The request never got an HTTP answer: refused connection, DNS failure, timeout.

    ``str()`` is one line such as ``cannot reach https://host/api: connection refused``; the
    httpx exception is kept in ``original`` rather than chained, so logs stay one line.
    """

    def __init__(self, message: str, *, request_method: str, request_url: str) -> None:
        super().__init__(message)
        self.request_method = request_method
        self.request_url = request_url
        self.original: httpx.TransportError | None = None
        self.reached = True
        """Whether the API may have acted on the request (False: it was never sent whole)."""

    @classmethod
    def from_httpx(
        cls, exc: httpx.TransportError, *, base_url: str, secrets: Iterable[str] = ()
    ) -> TransportError:
        """Wrap an httpx transport exception in a one-line, token-free error."""
        try:
            method, url = exc.request.method, str(exc.request.url)
        except RuntimeError:  # httpx raises when the exception carries no request
            method, url = "", base_url
        reason = transport_reason(exc)
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol):
            message = f"cannot reach {base_url}: {reason}"
        else:
            message = f"{method} {url} failed: {reason}".strip()
        error = cls(mask_secrets(message, secrets), request_method=method, request_url=url)
        error.original = exc
        # No connection, or broken while sending: the API cannot have acted on half a request.
        error.reached = not isinstance(exc, _UNSENT)
        return error


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: RateLimited,
}
# 402 and 404 map to their typed error only with the documented error_code: a 404 without
# ASSISTANT_NOT_FOUND is usually a wrong path (e.g. the intellixent path on autocalls).
_BY_STATUS_AND_CODE: dict[tuple[int, str], type[ApiError]] = {
    (402, "INSUFFICIENT_BALANCE"): InsufficientBalance,
    (404, "ASSISTANT_NOT_FOUND"): AssistantNotFound,
}


def decode_body(response: httpx.Response) -> tuple[Any, bool]:
    """The body decoded as JSON, and whether that worked (else the text is returned)."""
    try:
        return response.json(), True
    except (ValueError, UnicodeDecodeError):
        return response.text, False


def error_class_for(response: httpx.Response) -> type[ApiError]:
    """The error class an error answer maps to."""
    status = response.status_code
    body, is_json = decode_body(response)
    if status >= 500:
        return ServerError
    if status in _BY_STATUS:
        # A 422 that is not JSON carries no field errors: treat it as unexpected.
        return UnexpectedResponse if status == 422 and not is_json else _BY_STATUS[status]
    code = body.get("error_code") if isinstance(body, dict) else None
    return _BY_STATUS_AND_CODE.get((status, str(code)), UnexpectedResponse)


def error_from_response(
    response: httpx.Response,
    *,
    cls: type[ApiError] | None = None,
    now: float | None = None,
    secrets: Iterable[str] = (),
) -> ApiError:
    """The typed error for an answer (``cls`` forces the class, e.g. for a malformed 200)."""
    body, _ = decode_body(response)
    request = response.request
    error_cls = cls or error_class_for(response)
    return error_cls(
        response.status_code,
        body,
        request.method,
        str(request.url),
        headers=response.headers,
        now=now,
        secrets=secrets,
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _excerpt(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    text = _one_line(text)
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"
