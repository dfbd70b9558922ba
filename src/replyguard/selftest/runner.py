"""Running the contract suite against one faulty (or variant) reference server per case.

Each case starts ``replyguard serve --fault NAME`` (or ``--variant NAME``) with a short window
in its own temporary folder, runs the engine's check (what ``replyguard check --target PROFILE``
runs) in a process of its own (pytest cannot run twice in one process without stale imports),
reads the JSON report and stops the server. Those processes are forked from a fork server that
has imported pytest, schemathesis, hypothesis and the suite once: a case does not pay for the
imports again.
A case in ``paid`` mode judges the same server as a billed target would be judged: its profile
says ``exhaustive = false`` and ``allow_writes = true``, with the default caps.
Cases run in a thread pool; each thread only waits on processes.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path

from replyguard.config.options import REFERENCE_WINDOW
from replyguard.exit_codes import ExitCode
from replyguard.reference.launch import ReferenceStartError, start_reference
from replyguard.selftest.expectations import matches
from replyguard.spec import rate_limit

__all__ = [
    "CASE_MODES",
    "WINDOW",
    "Case",
    "CaseResult",
    "registered",
    "run_case",
    "run_cases",
]

#: The reference's window in seconds for every case: the one a check uses.
WINDOW = REFERENCE_WINDOW
#: How a case is judged: as a free target (exhaustive) or as a billed one (paid).
CASE_MODES = ("exhaustive", "paid")
CASE_TIMEOUT = 600.0
#: What every case's check imports, loaded once in the fork server (0.6-0.7 s of a 2-5 s case).
_PRELOAD = [
    "replyguard.engine.check",
    "replyguard.engine.suite_plugin",
    "replyguard.suite.schemas",
    "schemathesis",
    "hypothesis",
    "pytest",
    "httpx",
]


@functools.cache
def _forks() -> ForkServerContext | SpawnContext:
    """The fork server's context (spawn where there is none: Windows), preloading once."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


@dataclass(slots=True, frozen=True)
class Case:
    """One server to judge: a fault (with the rules that must catch it) or a correct variant."""

    name: str
    kind: str  # "fault" | "variant"
    expect: tuple[str, ...] = ()
    #: ``--rules`` globs; empty runs the full suite.
    rules: tuple[str, ...] = ()
    limit: int = field(default_factory=lambda: rate_limit().limit)
    """The reference's limit (the documented one unless the case needs no pacing)."""
    mode: str = "exhaustive"
    """``exhaustive`` (a free target) or ``paid`` (judged as a billed one)."""
    window: int | None = None
    """The reference's window for this case (None: the run's, a check's default)."""

    @property
    def label(self) -> str:
        """The case's name, with the mode when it is the paid one."""
        return self.name if self.mode == "exhaustive" else f"{self.name} (paid)"


@dataclass(slots=True, frozen=True)
class CaseResult:
    """What the suite said about one case."""

    case: Case
    failing: tuple[str, ...]
    seconds: float
    error: str | None = None
    #: The first failure of each failing rule (expected, observed, curl): evidence for a
    #: false alarm, kept in the selftest's JSON report.
    evidence: tuple[dict[str, str], ...] = ()

    @property
    def detected_by(self) -> tuple[str, ...]:
        """Failing rules that match the case's expectation."""
        return tuple(rule for rule in self.failing if matches(rule, self.case.expect))

    @property
    def verdict(self) -> str:
        """detected / missed / wrong rule for a fault; pass / false alarm for a variant."""
        if self.error is not None:
            return "error"
        if self.case.kind == "variant":
            return "false alarm" if self.failing else "pass"
        if self.detected_by:
            return "detected"
        return "wrong rule" if self.failing else "missed"

    @property
    def ok(self) -> bool:
        """Whether this case counts towards a passing score."""
        return self.verdict in ("detected", "pass")


def _check_in_fork(flags: dict[str, str | bool], folder: str) -> None:
    """The engine's check with these flags in this forked, disposable process; exits with its
    status."""
    os.chdir(folder)
    # The selftest decides every option itself: no inherited REPLYGUARD_* setting may narrow
    # or redirect a run.
    for key in [k for k in os.environ if k.startswith("REPLYGUARD_")]:
        del os.environ[key]
    for fd, name in ((1, "check.stdout"), (2, "check.stderr")):
        with open(Path(folder) / name, "wb") as out:
            os.dup2(out.fileno(), fd)
    from replyguard.config import ConfigError, read_choices
    from replyguard.engine.check import run_check

    code: object = 0
    try:
        code = run_check(read_choices(flags))
    except ConfigError as exc:
        sys.stderr.write(f"replyguard: {exc}\n")
        code = ExitCode.COULD_NOT_JUDGE
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 2)


def _run_check(flags: dict[str, str | bool], folder: Path, timeout: float) -> int | None:
    """Run a check for a case in a fork of the fork server; its exit status (None: timed out)."""
    process = _forks().Process(target=_check_in_fork, args=(flags, str(folder)))
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return None
    return process.exitcode


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def run_case(
    case: Case, folder: Path, *, window: float = WINDOW, timeout: float = CASE_TIMEOUT
) -> CaseResult:
    """Start the case's server in ``folder``, run the suite against it, stop the server."""
    started = time.monotonic()
    flag = "--fault" if case.kind == "fault" else "--variant"
    try:
        reference = start_reference(
            folder,
            limit=case.limit,
            window=case.window or round(window),
            extra_args=[flag, case.name],
            timeout=30.0,
        )
    except ReferenceStartError as exc:
        return CaseResult(case, (), time.monotonic() - started, f"server: {exc}")
    try:
        report_path = folder / "report.json"
        profile = reference.profile_path
        if case.mode == "paid":
            profile = _paid_profile(reference.profile, folder / "paid-profile.json")
        # No plan: a paid case judges detection, and its rehearsal (the whole suite again,
        # against a correct reference) would double the case's time and prove nothing here.
        flags: dict[str, str | bool] = {
            "target": str(profile),
            "report_json": str(report_path),
            "format": "plain",
            "plan": False,
        }
        if case.rules:
            flags["rules"] = ",".join(case.rules)
        code = _run_check(flags, folder, timeout)
        if code is None:
            return CaseResult(
                case, (), time.monotonic() - started, f"check: no verdict within {timeout:g}s"
            )
        if code not in (0, 1, 2) or not report_path.exists():
            # A check that died before redirecting its output has no stderr file.
            stderr_path = folder / "check.stderr"
            stderr = (
                stderr_path.read_text(encoding="utf-8", errors="replace")
                if stderr_path.exists()
                else ""
            )
            return CaseResult(
                case, (), time.monotonic() - started, f"check exit {code}: {_last_line(stderr)}"
            )
        report = json.loads(report_path.read_text(encoding="utf-8"))
    finally:
        reference.stop()
    failing = tuple(item["rule"] for item in report["rules"] if item["verdict"] == "fail")
    erred = [item for item in report["rules"] if item["verdict"] == "error"]
    # The first error's reason too: a CI log then says what went wrong, not only where.
    error = (
        f"could not judge {', '.join(item['rule'] for item in erred)} ({erred[0]['reason']})"
        if erred
        else None
    )
    evidence = tuple(
        item["failures"][0]
        for item in report["rules"]
        if item["verdict"] == "fail" and item.get("failures")
    )
    return CaseResult(case, failing, time.monotonic() - started, error, evidence)


def _paid_profile(profile: dict[str, object], path: Path) -> Path:
    """The reference's profile as a billed target's: not exhaustive, writes allowed."""
    paid = dict(profile)
    paid["safety"] = {"allow_writes": True, "exhaustive": False}
    path.write_text(json.dumps(paid), encoding="utf-8")
    return path


def run_cases(
    cases: Sequence[Case],
    *,
    jobs: int = 2,
    window: float = WINDOW,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run every case; results in the order of ``cases``.

    Fault runs are short and CPU-bound: ``jobs`` at a time. Variant runs (the full suite)
    mostly sleep on the rate-limit pacing, so they run in a pool of their own beside them,
    also ``jobs`` at a time, started first.
    """
    results: dict[int, CaseResult] = {}
    variants = [i for i, case in enumerate(cases) if case.kind == "variant"]
    # Paced rate-limit faults first: a shorter makespan.
    faults = sorted(
        (i for i, case in enumerate(cases) if case.kind != "variant"),
        key=lambda i: cases[i].limit != rate_limit().limit,
    )
    width = max(1, jobs)
    with (
        tempfile.TemporaryDirectory(prefix="replyguard-selftest-") as tmp,
        ThreadPoolExecutor(max_workers=width) as variant_pool,
        ThreadPoolExecutor(max_workers=width) as fault_pool,
    ):
        futures = {}
        for pool, indexes in ((variant_pool, variants), (fault_pool, faults)):
            for i in indexes:
                future = pool.submit(run_case, cases[i], Path(tmp) / f"case{i}", window=window)
                futures[future] = i
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_result is not None:
                on_result(result)
    return [results[i] for i in range(len(cases))]


def registered(kind: str) -> list[str]:
    """The fault (or variant) names the reference server offers, asked over its CLI."""
    flag = "--list-faults" if kind == "fault" else "--list-variants"
    done = subprocess.run(
        [sys.executable, "-m", "replyguard", "serve", flag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"reference {flag} failed: {_last_line(done.stderr)}")
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
