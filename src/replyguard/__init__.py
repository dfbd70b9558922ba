"""replyguard: contract and load tests for the Intellixent / Autocalls / Famulor AI Assistant API.

The public surface is re-exported here; the modules behind it are implementation.
"""

from replyguard.client import (
    ApiError,
    AssistantClient,
    AsyncAssistantClient,
    CreatedAssistant,
    RateLimited,
    Reply,
    RetryPolicy,
)
from replyguard.masking import mask_token, masked_curl
from replyguard.profile import ProfileError, Target, load_target
from replyguard.spec import Rule, load_rules, load_spec

__all__ = [
    "ApiError",
    "AssistantClient",
    "AsyncAssistantClient",
    "CreatedAssistant",
    "ProfileError",
    "RateLimited",
    "Reply",
    "RetryPolicy",
    "Rule",
    "Target",
    "load_rules",
    "load_spec",
    "load_target",
    "mask_token",
    "masked_curl",
]
