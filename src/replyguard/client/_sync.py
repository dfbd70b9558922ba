"""The blocking client, on httpx.Client (safe for locust's gevent greenlets)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from ._base import BaseClient, Operation, generate_reply_payload
from ._models import CreatedAssistant, Reply


class AssistantClient(BaseClient[httpx.BaseTransport, Callable[[float], object], httpx.Client]):
    """Calls generate-reply and create-assistant, retrying 429s as the RetryPolicy says.

    ``sleep`` and ``rng`` are injectable: tests pass a recorder and a seeded random, locust
    passes ``gevent.sleep``.
    """

    _default_sleep = staticmethod(time.sleep)

    def _open(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(transport=transport, **self._httpx_options())

    def generate_reply(
        self,
        assistant_id: int,
        customer_identifier: str,
        message: str,
        variables: Mapping[str, Any] | None = None,
    ) -> Reply:
        """Ask the assistant for a reply; raises an ApiError subclass or TransportError."""
        payload = generate_reply_payload(assistant_id, customer_identifier, message, variables)
        return self._reply(self._exchange("generate_reply", payload, retry=True))

    def create_assistant(self, payload: Mapping[str, Any]) -> CreatedAssistant:
        """Create an assistant from a create-assistant body; raises like generate_reply."""
        response = self._exchange("create_assistant", dict(payload), retry=True)
        return self._created_assistant(response)

    def send(
        self,
        operation: Operation,
        json: Any = None,
        *,
        retry: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``json`` to an operation and return the answer whatever its status.

        Retries only when ``retry`` is true; raises only TransportError (no answer at all).
        ``headers`` override the client's for this request (e.g. a wrong Authorization).
        """
        return self._exchange(operation, json, retry, headers)

    def _exchange(
        self,
        operation: Operation,
        json: Any,
        retry: bool,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        request = self._build_request(self._http, operation, json, headers)
        state = self._retry_state(retry)
        while True:
            self.stats.attempts += 1
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                error = self._transport_error(exc)
                wait = state.wait_before_retry(error)
                if wait is None:
                    raise error from None
            else:
                wait = self._wait_after_response(state, response)
                if wait is None:
                    return response
            self._sleep(wait)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> AssistantClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
