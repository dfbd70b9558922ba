"""Which contract rules must catch each fault of the reference server.

This is the judge's side of fault injection: the server (``replyguard.reference.faults``) only
names and describes its faults, and this table says which failing rules count as detecting
each one. A fault counts as detected when some failing rule matches one of its ``expect``
globs; one caught only by other rules is "detected by the wrong rule".
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from replyguard.spec import rate_limit

__all__ = [
    "AREA_RUNS",
    "EXPECTATIONS",
    "SAMPLE",
    "Expectation",
    "matches",
]

#: A limit so high that no paced test ever waits: faults outside rate limiting are judged
#: without spending minutes on pacing (the rate-limit faults keep the documented 5).
UNPACED_LIMIT = 100_000


@dataclass(slots=True, frozen=True)
class Expectation:
    """A fault, the rule globs that must catch it, and how its run is narrowed."""

    fault: str
    expect: tuple[str, ...]
    #: ``--rules`` globs for the fault's run (the rule areas that matter).
    run: tuple[str, ...]
    #: ``--limit`` of the reference server for the run.
    limit: int = UNPACED_LIMIT
    #: ``--window`` in seconds, when the fault needs a longer one than a check's (None: that).
    window: int | None = None


#: The rule areas each fault family runs (by the fault name's first component).
AREA_RUNS: dict[str, tuple[str, ...]] = {
    "ratelimit": ("ratelimit.*",),
    "reply": ("reply.*", "auth.*"),
    "auth": ("reply.*", "auth.*"),
    "contract": ("contract.*",),
    "assistant": ("assistant.*",),
}


def _e(
    fault: str, *expect: str, run: tuple[str, ...] | None = None, window: int | None = None
) -> Expectation:
    area = fault.split(".", 1)[0]
    limit = rate_limit().limit if area == "ratelimit" else UNPACED_LIMIT
    return Expectation(fault, expect, run or AREA_RUNS[area], limit, window)


_TABLE = [
    # -- rate limiting --------------------------------------------------------------------
    _e("ratelimit.none", "ratelimit.limit"),
    _e("ratelimit.limit-plus-one", "ratelimit.limit"),
    _e("ratelimit.limit-minus-one", "ratelimit.limit"),
    _e("ratelimit.shared-per-account", "ratelimit.per-token"),
    _e("ratelimit.global", "ratelimit.per-token"),
    _e("ratelimit.never-resets", "ratelimit.recovers"),
    # A 1 s window leaves no room for a too-short retry_after: 1 is then the honest answer.
    _e("ratelimit.retry-after-too-short", "ratelimit.recovers", window=2),
    _e("ratelimit.retry-after-too-long", "ratelimit.retry-after.range"),
    _e("ratelimit.retry-after-missing", "ratelimit.body"),
    _e("ratelimit.retry-after-string", "ratelimit.retry-after.range"),
    _e("ratelimit.retry-after-float", "ratelimit.retry-after.range"),
    _e("ratelimit.retry-after-zero", "ratelimit.retry-after.range"),
    _e("ratelimit.body-envelope", "ratelimit.body"),
    _e("ratelimit.status-503", "ratelimit.status-429"),
    _e("ratelimit.header-disagrees", "ratelimit.retry-after.header-agrees"),
    _e("ratelimit.validation-not-counted", "ratelimit.counts-failed-validation"),
    # -- rate-limit families a gateway runs (issue 18) --------------------------------------
    # A bucket serves a burst, then one slot every window/limit: more than the limit within a
    # window. A 2 s window gives each refill 0.4 s, well above a loaded machine's jitter.
    _e("ratelimit.token-bucket", "ratelimit.limit", window=2),
    _e("ratelimit.gcra", "ratelimit.limit", window=2),
    _e("ratelimit.gateway-503-html", "ratelimit.status-429"),
    # -- generate-reply ---------------------------------------------------------------------
    _e("reply.new-conversation-every-call", "reply.persistence.same-identifier"),
    _e("reply.conversation-not-per-assistant", "reply.persistence.per-assistant"),
    _e("reply.conversation-id-not-uuid", "reply.conversation-id.uuid"),
    _e("reply.identifier-lowercased", "reply.customer-identifier.echo"),
    _e("reply.identifier-plus-stripped", "reply.customer-identifier.echo"),
    _e("reply.function-calls-missing", "reply.response.shape"),
    _e("reply.ai-disabled-integer", "reply.response.shape"),
    _e("reply.success-missing", "reply.response.shape"),
    _e("reply.identifier-max-254", "reply.customer-identifier.max-length"),
    _e("reply.identifier-max-256", "reply.customer-identifier.max-length"),
    _e("reply.foreign-assistant-served", "reply.assistant.foreign"),
    _e("reply.foreign-assistant-403", "reply.assistant.foreign"),
    _e("reply.not-found-error-code", "reply.assistant.not-found"),
    _e("reply.error-envelope-without-success", "reply.error.shape"),
    # The 500 shows where the emoji identifier is sent: the echo test's second conversation.
    _e(
        "reply.emoji-identifier-500",
        "contract.no-server-error",
        "reply.customer-identifier.echo",
        "reply.persistence.new-identifier",
    ),
    _e("reply.variables-replaced", "reply.variables.merge"),
    _e("reply.variables-first-wins", "reply.variables.merge"),
    _e("reply.balance-unchecked", "reply.balance.insufficient"),
    _e(
        "reply.validation-400",
        "reply.required-fields",
        "reply.types",
        "reply.customer-identifier.max-length",
        "reply.validation.error-shape",
    ),
    _e("auth.redirect-to-login", "auth.missing-token", "auth.invalid-token"),
    _e("contract.malformed-json-500", "contract.malformed-request-4xx", "contract.no-server-error"),
    _e("contract.text-plain", "contract.content-type"),
    # -- create-assistant: ranges, enums, lengths, required, types --------------------------
    _e("assistant.max-duration-1201", "assistant.max_duration.range"),
    _e("assistant.ringing-time-accepts-0", "assistant.ringing_time.range"),
    _e("assistant.speech-speed-exclusive-max", "assistant.speech_speed.range"),
    _e("assistant.turn-detection-unchecked", "assistant.turn_detection_threshold.range"),
    _e("assistant.voice-stability-percent", "assistant.voice_stability.range"),
    _e("assistant.endpoint-sensitivity-max-1", "assistant.endpoint_sensitivity.range"),
    _e("assistant.ambient-sound-any", "assistant.ambient_sound.enum"),
    _e("assistant.endpoint-type-any", "assistant.endpoint_type.enum"),
    _e("assistant.timezone-any", "assistant.timezone.iana"),
    _e("assistant.system-prompt-optional", "assistant.system_prompt.required"),
    _e("assistant.initial-message-201", "assistant.initial_message.max-length"),
    _e("assistant.number-type-500", "assistant.types.number", "contract.no-server-error"),
    # -- create-assistant: engine modes and references --------------------------------------
    _e("assistant.pipeline-without-llm", "assistant.mode.pipeline-requires-llm"),
    _e("assistant.multimodal-without-model", "assistant.mode.multimodal-requires-multimodal-model"),
    _e("assistant.dualplex-without-model", "assistant.mode.dualplex-requires-multimodal-model"),
    _e(
        "assistant.realtime-knowledgebase-prompt",
        "assistant.mode.knowledgebase-prompt-pipeline-only",
    ),
    _e("assistant.realtime-fillers", "assistant.mode.fillers-pipeline-only"),
    _e("assistant.realtime-interruptions-off", "assistant.mode.interruptions-required-realtime"),
    _e("assistant.realtime-transcriber", "assistant.mode.transcriber-pipeline-only"),
    _e("assistant.voice-any-mode", "assistant.voice.mode-compatible"),
    _e("assistant.webhook-url-optional", "assistant.webhook.url-required-when-active"),
    _e("assistant.inbound-caller-id", "assistant.phone_number.inbound-not-caller-id"),
    _e("assistant.inbound-number-reassigned", "assistant.phone_number.inbound-not-assigned"),
    _e("assistant.tool-ownership-unchecked", "assistant.tool_ids.owned"),
    # -- create-assistant: answers ----------------------------------------------------------
    _e("assistant.created-active", "assistant.create.status-inactive"),
    _e("assistant.created-200", "assistant.create.status-code"),
    _e("assistant.created-unwrapped", "assistant.create.response-shape"),
    _e("assistant.errors-flat-list", "assistant.validation.error-shape"),
    _e("assistant.errors-first-only", "assistant.validation.all-fields-keyed"),
    # -- the last misses (issue 19) ----------------------------------------------------------
    _e("reply.empty-reply", "reply.text.non-empty"),
    # Caught where the emoji is sent (a paid run's valid calls carry it: suite.unicode_mix).
    _e(
        "reply.emoji-message-500",
        "contract.no-server-error",
        run=(*AREA_RUNS["reply"], "contract.no-server-error"),
    ),
    _e(
        "auth.unauthenticated-500",
        "auth.missing-token",
        "auth.invalid-token",
        "contract.no-server-error",
    ),
]

#: Every fault's expectation, by fault name.
EXPECTATIONS: dict[str, Expectation] = {e.fault: e for e in _TABLE}

#: The fixed CI sample: at least one fault per area (rate limit, generate-reply, ranges, mode
#: rules, error shapes, 500s, auth).
SAMPLE: tuple[str, ...] = (
    "ratelimit.limit-plus-one",
    "ratelimit.retry-after-too-short",
    # A gateway's answer over the limit (issue 18): an 11 s case.
    "ratelimit.gateway-503-html",
    "reply.new-conversation-every-call",
    "reply.foreign-assistant-403",
    "reply.emoji-identifier-500",
    "auth.redirect-to-login",
    "assistant.speech-speed-exclusive-max",
    "assistant.realtime-fillers",
    "assistant.errors-flat-list",
    "assistant.number-type-500",
)


def matches(rule: str, globs: Iterable[str]) -> bool:
    """Whether a rule id matches any of the globs."""
    return any(fnmatch.fnmatchcase(rule, glob) for glob in globs)
