"""Target profiles: which deployment of the API to test, with which tokens and fixtures."""

from replyguard.target.loader import (
    Profile,
    ProfileError,
    load_profile,
    load_target,
    parse_target,
    read_profile,
)
from replyguard.target.model import (
    DEFAULT_MAX_BILLED_CALLS,
    DEFAULT_MAX_REQUESTS,
    MODES,
    POOL_ROLE,
    TOKEN_ROLES,
    Assistants,
    Capabilities,
    Catalog,
    Paths,
    PhoneNumber,
    RateLimitSettings,
    Safety,
    Target,
    Tokens,
    Voice,
)
from replyguard.target.schema import SCHEMA_PATH

__all__ = [
    "DEFAULT_MAX_BILLED_CALLS",
    "DEFAULT_MAX_REQUESTS",
    "MODES",
    "POOL_ROLE",
    "SCHEMA_PATH",
    "TOKEN_ROLES",
    "Assistants",
    "Capabilities",
    "Catalog",
    "Paths",
    "PhoneNumber",
    "Profile",
    "ProfileError",
    "RateLimitSettings",
    "Safety",
    "Target",
    "Tokens",
    "Voice",
    "load_profile",
    "load_target",
    "parse_target",
    "read_profile",
]
