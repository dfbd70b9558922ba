"""Opening a run: the profile, or the embedded reference started for it, read once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from replyguard.config.options import option
from replyguard.config.resolve import Choices, RunConfig, load_run_config
from replyguard.reference.launch import running_reference

__all__ = ["open_run"]


@contextmanager
def open_run(choices: Choices) -> Iterator[RunConfig]:
    """The run's config; with no profile, the embedded reference runs until the block ends.

    Raises ``ProfileError`` for a bad profile and ``ReferenceStartError`` when the reference
    does not come up; both carry one line.
    """
    if choices.profile is not None:
        yield load_run_config(choices, choices.profile)
        return
    window = choices.get("reference_window") or option("reference_window").default
    # The reference takes whole seconds; the default (REFERENCE_WINDOW) proves the rate-limit
    # rules in seconds.
    with running_reference(window=max(1, round(window))) as reference:
        yield load_run_config(choices, reference.profile_path, embedded=True)
