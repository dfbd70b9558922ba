"""The asyncio client, on httpx.AsyncClient, with the same surface as AssistantClient."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from ._base import BaseClient, Operation, generate_reply_payload
from ._models import CreatedAssistant, Reply


class AsyncAssistantClient(
    BaseClient[httpx.AsyncBaseTransport, Callable[[float], Awaitable[object]], httpx.AsyncClient]
):
    """The asyncio twin of AssistantClient: same arguments, methods are coroutines.

    ``sleep`` must be a coroutine function (``asyncio.sleep`` by default).
    """

    _default_sleep = staticmethod(asyncio.sleep)

    def _open(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, **self._httpx_options())

    async def generate_reply(
        self,
        assistant_id: int,
        customer_identifier: str,
        message: str,
        variables: Mapping[str, Any] | None = None,
    ) -> Reply:
        """Ask the assistant for a reply; raises an ApiError subclass or TransportError."""
        payload = generate_reply_payload(assistant_id, customer_identifier, message, variables)
        return self._reply(await self._exchange("generate_reply", payload, retry=True))

    async def create_assistant(self, payload: Mapping[str, Any]) -> CreatedAssistant:
        """Create an assistant from a create-assistant body; raises like generate_reply."""
        response = await self._exchange("create_assistant", dict(payload), retry=True)
        return self._created_assistant(response)

    async def send(
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
        return await self._exchange(operation, json, retry, headers)

    async def _exchange(
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
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                error = self._transport_error(exc)
                wait = state.wait_before_retry(error)
                if wait is None:
                    raise error from None
            else:
                wait = self._wait_after_response(state, response)
                if wait is None:
                    return response
            await self._sleep(wait)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncAssistantClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
