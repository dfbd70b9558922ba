"""What the sync and async clients share: configuration, requests, retry decisions, parsing."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar, cast, get_args

import httpx

from replyguard.masking import mask_token

from ._errors import ApiError, TransportError, error_from_response
from ._models import CreatedAssistant, Reply, parse_created_assistant, parse_reply
from ._retry import ClientStats, OnRetry, RetryPolicy, RetryState

Operation = Literal["generate_reply", "create_assistant"]
OPERATIONS: tuple[Operation, ...] = get_args(Operation)

DEFAULT_RETRY = RetryPolicy()
# Generating a reply runs a language model: allow a minute for the answer, not for connecting.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = "replyguard-client"

_Transport = TypeVar("_Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)
_Sleep = TypeVar("_Sleep")
_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)


@dataclass(slots=True, frozen=True)
class Brand:
    """Where one brand of the white-label platform serves the API."""

    base_url: str
    generate_reply_path: str
    create_assistant_path: str = "/user/assistant"


def _brands_from_contract() -> Mapping[str, Brand]:
    # The contract's servers and paths are the one place the brands are written down.
    from replyguard.spec import brand_servers, brands, operation_paths

    table = {}
    for name in brands():
        paths = operation_paths(name)
        table[name] = Brand(
            brand_servers(name)[0]["url"], paths["generate_reply"], paths["create_assistant"]
        )
    return table


BRANDS: Mapping[str, Brand] = _brands_from_contract()


def brand_defaults(brand: str) -> Brand:
    """The base URL and paths of a brand (case-insensitive); ValueError for an unknown one."""
    try:
        return BRANDS[brand.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(BRANDS))
        raise ValueError(f"unknown brand {brand!r}; expected one of: {known}") from None


def generate_reply_payload(
    assistant_id: int,
    customer_identifier: str,
    message: str,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of generate-reply; ``variables`` is left out when not given."""
    payload: dict[str, Any] = {
        "assistant_id": assistant_id,
        "customer_identifier": customer_identifier,
        "message": message,
    }
    if variables is not None:
        payload["variables"] = dict(variables)
    return payload


class BaseClient(Generic[_Transport, _Sleep, _Http]):
    """Configuration and the IO-free half of the client; subclasses open the httpx client.

    The one constructor of both clients: ``transport`` and ``sleep`` are of the subclass's
    kind (sync or async); ``sleep=None`` is the subclass's default (``time.sleep``,
    ``asyncio.sleep``), ``rng=None`` is ``random.random``.
    """

    #: The sleep of a client given none (a staticmethod in each subclass).
    _default_sleep: ClassVar[Callable[..., Any]]

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        generate_reply_path: str = "/user/ai/generate-reply",
        create_assistant_path: str = "/user/assistant",
        retry: RetryPolicy | None = DEFAULT_RETRY,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: _Transport | None = None,
        headers: Mapping[str, str] | None = None,
        on_retry: OnRetry | None = None,
        sleep: _Sleep | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self.base_url = str(url).rstrip("/")
        self._token = token
        self.paths: dict[Operation, str] = {
            "generate_reply": generate_reply_path,
            "create_assistant": create_assistant_path,
        }
        self.retry = retry if retry is not None else RetryPolicy.disabled()
        self.timeout = timeout
        self.on_retry = on_retry
        self._rng = rng if rng is not None else random.random
        self.stats = ClientStats()
        """Counters across every call of this client (attempts, retries, total_wait)."""
        # Laravel answers HTML or a redirect to a login page unless JSON is asked for.
        self._headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
            "Authorization": f"Bearer {token}",
        }
        self._sleep: _Sleep = sleep if sleep is not None else cast(_Sleep, self._default_sleep)
        self._http: _Http = self._open(transport)

    def _open(self, transport: _Transport | None) -> _Http:
        """The subclass's httpx client, with this client's base URL, headers and timeout."""
        raise NotImplementedError

    @classmethod
    def from_brand(
        cls, brand: str, base_url: str | None = None, *, token: str, **options: Any
    ) -> Self:
        """A client with the brand's paths, at its public base URL unless ``base_url`` is given."""
        defaults = brand_defaults(brand)
        options.setdefault("generate_reply_path", defaults.generate_reply_path)
        options.setdefault("create_assistant_path", defaults.create_assistant_path)
        return cls(base_url or defaults.base_url, token, **options)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, token={mask_token(self._token)!r}, "
            f"generate_reply_path={self.paths['generate_reply']!r}, "
            f"create_assistant_path={self.paths['create_assistant']!r})"
        )

    __str__ = __repr__

    @property
    def masked_token(self) -> str:
        """The token as it may be shown."""
        return mask_token(self._token)

    def _httpx_options(self) -> dict[str, Any]:
        # base_url gets a trailing slash so httpx appends the operation paths to /api.
        return {"base_url": self.base_url + "/", "headers": self._headers, "timeout": self.timeout}

    def _build_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        operation: Operation,
        json: Any,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        if operation not in self.paths:
            raise ValueError(f"unknown operation {operation!r}; expected one of: {OPERATIONS}")
        path = self.paths[operation].lstrip("/")
        return http.build_request("POST", path, json=json, headers=headers)

    def _retry_state(self, retry: bool) -> RetryState:
        policy = self.retry if retry else RetryPolicy.disabled()
        return RetryState(policy, rng=self._rng, stats=self.stats, on_retry=self.on_retry)

    def _wait_after_response(self, state: RetryState, response: httpx.Response) -> float | None:
        """Seconds to sleep before resending after ``response``, or None to keep it."""
        if response.status_code != 429 and response.status_code < 500:
            return None
        return state.wait_before_retry(self._error(response))

    def _transport_error(self, exc: httpx.TransportError) -> TransportError:
        return TransportError.from_httpx(exc, base_url=self.base_url, secrets=(self._token,))

    def _error(self, response: httpx.Response) -> ApiError:
        return error_from_response(response, secrets=(self._token,))

    def _reply(self, response: httpx.Response) -> Reply:
        if not response.is_success:
            raise self._error(response)
        return parse_reply(response, secrets=(self._token,))

    def _created_assistant(self, response: httpx.Response) -> CreatedAssistant:
        if not response.is_success:
            raise self._error(response)
        return parse_created_assistant(response, secrets=(self._token,))
