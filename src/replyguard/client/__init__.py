"""httpx client for the AI Assistant API: generate-reply and create-assistant.

``AssistantClient`` (blocking, for the contract suite and locust's gevent users) and
``AsyncAssistantClient`` share every non-IO part: backoff, parsing and error mapping.
"""

from replyguard.masking import mask_token
from replyguard.wire import parse_retry_after

from ._async import AsyncAssistantClient
from ._base import BRANDS, DEFAULT_RETRY, DEFAULT_TIMEOUT, Brand, Operation, brand_defaults
from ._errors import (
    ApiError,
    AssistantNotFound,
    AuthenticationError,
    ClientError,
    InsufficientBalance,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
    error_from_response,
)
from ._models import CreatedAssistant, Reply
from ._retry import ClientStats, OnRetry, RetryPolicy
from ._sync import AssistantClient

__all__ = [
    "BRANDS",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "ApiError",
    "AssistantClient",
    "AssistantNotFound",
    "AsyncAssistantClient",
    "AuthenticationError",
    "Brand",
    "ClientError",
    "ClientStats",
    "CreatedAssistant",
    "InsufficientBalance",
    "OnRetry",
    "Operation",
    "PayloadTooLarge",
    "RateLimited",
    "Reply",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnexpectedResponse",
    "ValidationFailed",
    "brand_defaults",
    "error_from_response",
    "mask_token",
    "parse_retry_after",
]
