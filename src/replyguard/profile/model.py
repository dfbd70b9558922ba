"""The target under test, as a profile describes it: frozen records, resolved once."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "ACCOUNT_ROLES",
    "DEFAULT_MAX_BILLED_CALLS",
    "DEFAULT_MAX_REQUESTS",
    "MODES",
    "POOL_ROLE",
    "TOKEN_ROLES",
    "Assistants",
    "Capabilities",
    "Catalog",
    "Paths",
    "PhoneNumber",
    "RateLimitSettings",
    "Role",
    "Safety",
    "Target",
    "Tokens",
    "Voice",
]

MODES = ("pipeline", "multimodal", "dualplex")


class Role(StrEnum):
    """The role of a token in a profile: the one place that names them (a ``str``, so a role
    is also the key of its token in the profile's ``[tokens]`` table)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    LOW_BALANCE = "low_balance"
    OTHER_ACCOUNT = "other_account"


#: The tokens a profile may hold, by role.
TOKEN_ROLES: tuple[Role, ...] = tuple(Role)
#: The primary account's tokens: the ones a test's "any" token chooses between, and the ones a
#: limit shared by the account would show on.
ACCOUNT_ROLES: tuple[Role, ...] = (Role.PRIMARY, Role.SECONDARY)
#: ``tokens.pool``'s tokens have the roles ``pool.1``, ``pool.2``, …
POOL_ROLE = "pool"
#: A paid run sends about 300 create-assistant requests (refusals: free, not rate-limited by
#: the documents) and its generate-reply calls; the billed ones have their own cap.
DEFAULT_MAX_REQUESTS = 500
#: Billed generate-reply calls a non-exhaustive run may make unless told otherwise.
DEFAULT_MAX_BILLED_CALLS = 20


@dataclass(slots=True, frozen=True)
class Voice:
    id: int
    modes: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class PhoneNumber:
    id: int
    caller_id: bool = False
    assigned_inbound: bool = False


@dataclass(slots=True, frozen=True)
class Catalog:
    """Catalogue ids the target knows; create-assistant payloads are built from these."""

    languages: tuple[int, ...] = ()
    voices: tuple[Voice, ...] = ()
    llm_models: tuple[int, ...] = ()
    multimodal_models: tuple[int, ...] = ()
    knowledgebases: tuple[int, ...] = ()
    tools: tuple[int, ...] = ()
    phone_numbers: tuple[PhoneNumber, ...] = ()
    synthesizer_providers: tuple[int, ...] = ()
    transcriber_providers: tuple[int, ...] = ()
    foreign_knowledgebases: tuple[int, ...] = ()
    foreign_tools: tuple[int, ...] = ()
    foreign_phone_numbers: tuple[int, ...] = ()

    def voices_for(self, mode: str) -> tuple[int, ...]:
        """Voice ids that support an engine mode."""
        return tuple(v.id for v in self.voices if mode in v.modes)

    def voices_not_for(self, mode: str) -> tuple[int, ...]:
        """Voice ids that exist but do not support an engine mode."""
        return tuple(v.id for v in self.voices if mode not in v.modes)

    def can_build(self, mode: str) -> bool:
        """Whether a valid create-assistant payload for ``mode`` can be built from the catalogue."""
        model = self.llm_models if mode == "pipeline" else self.multimodal_models
        return bool(self.languages and self.voices_for(mode) and model)


@dataclass(slots=True, frozen=True, repr=False)
class Tokens:
    primary: str
    secondary: str | None = None
    low_balance: str | None = None
    other_account: str | None = None
    #: More tokens of the primary's account, for throughput only (``tokens.pool``): the limit
    #: is per token, so calls that are not about the limit spread over them. Roles ``pool.1``…
    pool: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # A profile may be printed in a traceback; its tokens never are.
        from replyguard.masking import mask_token

        shown = ", ".join(
            f"{r}={mask_token(getattr(self, r))!r}" for r in TOKEN_ROLES if getattr(self, r)
        )
        pool = f", pool={len(self.pool)} tokens" if self.pool else ""
        return f"Tokens({shown}{pool})"

    def secrets(self) -> tuple[str, ...]:
        """Every token of the profile, for masking."""
        return tuple(t for t in (self.role(r) for r in TOKEN_ROLES) if t) + self.pool

    def account_roles(self) -> tuple[str, ...]:
        """The primary account's token roles: primary, secondary, then the pool's."""
        pool = tuple(f"{POOL_ROLE}.{n}" for n in range(1, len(self.pool) + 1))
        return (Role.PRIMARY, *((Role.SECONDARY,) if self.secondary else ()), *pool)

    def role(self, name: str) -> str | None:
        """The token of a role (primary, secondary, low_balance, other_account, pool.N)."""
        prefix, _, number = name.partition(".")
        if prefix == POOL_ROLE and number.isdigit() and 1 <= int(number) <= len(self.pool):
            return self.pool[int(number) - 1]
        if name not in TOKEN_ROLES:
            raise ValueError(f"unknown token role {name!r}")
        value: str | None = getattr(self, name)
        return value

    def reproduction_roles(self) -> dict[str, str]:
        """Each token's name in a reproduction, by the token: "" for the account's tokens
        (primary, secondary, the pool: they share ``$REPLYGUARD_TOKEN``, as the documents tie
        nothing but the limit to a token), else its role (low_balance, other_account)."""
        account = set(self.account_roles())
        roles = dict.fromkeys((*TOKEN_ROLES, *account))
        return {
            token: "" if role in account else role for role in roles if (token := self.role(role))
        }


@dataclass(slots=True, frozen=True)
class Assistants:
    own: int
    foreign: int | None = None
    own_second: int | None = None
    low_balance: int | None = None


@dataclass(slots=True, frozen=True)
class Paths:
    generate_reply: str
    create_assistant: str


@dataclass(slots=True, frozen=True)
class RateLimitSettings:
    limit: int
    window_seconds: float


@dataclass(slots=True, frozen=True)
class Safety:
    """What the suite may spend on this target.

    ``allow_writes``: may it create assistants (data the user has to clean up).
    ``exhaustive``: is every request free (the reference server), so fuzz without counting.
    ``max_requests``: a hard cap on requests of the whole run; 0 means no cap.
    ``max_billed_calls``: a cap on generate-reply calls that can be billed; 0 means no cap.
    """

    allow_writes: bool = False
    exhaustive: bool = False
    max_requests: int = DEFAULT_MAX_REQUESTS
    max_billed_calls: int = 0


@dataclass(slots=True, frozen=True)
class Capabilities:
    """What the target lets an observer see beyond the documented contract."""

    reply_shows_variables: bool = False


@dataclass(slots=True, frozen=True)
class Target:
    """A deployment of the API under test, as described by a profile."""

    base_url: str
    brand: str | None
    paths: Paths
    tokens: Tokens
    assistants: Assistants
    catalog: Catalog
    rate_limit: RateLimitSettings
    safety: Safety
    capabilities: Capabilities = field(default_factory=Capabilities)
    source: str = "<memory>"
    name: str | None = None
    """A name for reports (``staging``); the file name when the profile gives none."""

    def url(self, operation: str) -> str:
        """Absolute URL of ``generate_reply`` or ``create_assistant``."""
        return self.base_url.rstrip("/") + getattr(self.paths, operation)

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in output."""
        return self.tokens.secrets()
