"""Start real reference servers on 127.0.0.1 for integration tests (port 0, wait for readiness)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from replyguard.reference import launch as embedded
from replyguard.reference.launch import EmbeddedReference, ReferenceStartError

__all__ = [
    "Reference",
    "ReferenceFailedToStart",
    "api",
    "make_reference",
    "reference_server",
    "running_reference",
    "start_reference",
]


class Reference(EmbeddedReference):
    """A running reference server, with the profile's tokens at hand for raw HTTP tests."""

    def token(self, name: str = "primary") -> str:
        """A token from the profile's ``[tokens]`` table."""
        return str(self.profile["tokens"][name])

    def headers(self, name: str = "primary") -> dict[str, str]:
        """Authorization headers for a profile token."""
        return {"Authorization": f"Bearer {self.token(name)}"}


ReferenceFailedToStart = ReferenceStartError


def start_reference(
    tmp_path: Path,
    *,
    limit: int = 5,
    window: int = 60,
    workers: int = 1,
    db_path: Path | None = None,
    extra_args: Sequence[str] = (),
) -> Reference:
    """Start a server in ``tmp_path`` (see :func:`replyguard.reference.launch.start_reference`)."""
    started = embedded.start_reference(
        tmp_path,
        limit=limit,
        window=window,
        workers=workers,
        db=db_path,
        extra_args=extra_args,
        timeout=10.0,
    )
    return Reference(*(getattr(started, name) for name in EmbeddedReference.__slots__))


@contextmanager
def running_reference(tmp_path: Path, **kwargs: Any) -> Iterator[Reference]:
    """Context manager around :func:`start_reference` that always stops the server."""
    ref = start_reference(tmp_path, **kwargs)
    try:
        yield ref
    finally:
        ref.stop()


# --- pytest fixtures: load with ``pytest_plugins = ["tests.helpers.servers"]`` in a test module.

SHARED_LIMIT = 1_000_000


@pytest.fixture(scope="session")
def reference_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """One shared server with a limit high enough that functional tests are never throttled."""
    with running_reference(tmp_path_factory.mktemp("reference"), limit=SHARED_LIMIT) as ref:
        yield ref


@pytest.fixture
def make_reference(tmp_path: Path) -> Iterator[Callable[..., Reference]]:
    """Factory for fresh servers (own database) that are stopped at teardown."""
    started: list[Reference] = []

    def make(**kwargs: Any) -> Reference:
        ref = start_reference(tmp_path / f"server{len(started)}", **kwargs)
        started.append(ref)
        return ref

    yield make
    for ref in started:
        ref.stop()


@pytest.fixture
def api(reference_server: Reference) -> Iterator[httpx.Client]:
    """An httpx client for the shared server, authenticated with the primary token."""
    with httpx.Client(
        base_url=reference_server.base_url, headers=reference_server.headers(), timeout=10
    ) as client:
        yield client
