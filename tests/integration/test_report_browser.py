"""The HTML report as a person sees it: opened in a real headless Chromium (Debian's
``chromium`` and ``chromium-driver``, driven by Selenium), from a real run against a fault.

Without Chromium the test is skipped with the reason, except under CI (``CI=true``), where a
missing browser is a failure: ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replyguard.reference.launch import running_reference

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAULT = "assistant.max-duration-1201"
BROKEN = "assistant.max_duration.range"
FIXED = "assistant.ringing_time.range"
RULES = "assistant.max_duration.*,assistant.ringing_time.*"
REASON = "ringing_time was capped at 59 s until the 2026-10 release (API-77)"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        driver = None
    if chromium and driver:
        return chromium, driver
    reason = (
        "headless Chromium is not installed (apt-get install chromium chromium-driver; "
        "pip install selenium)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _run(profile: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "replyguard.cli",
            "check",
            "--target",
            str(profile),
            "--rules",
            RULES,
            "--hide-passed",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real gated run: baseline from a correct run, then the fault, with known deviations."""
    folder = tmp_path_factory.mktemp("browser")
    with running_reference(window=2) as correct:
        good = _run(correct.profile_path, folder, "--report-json", "baseline.json")
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr
    known = folder / "known-deviations.toml"
    known.write_text(
        f'[[deviation]]\nrule = "{FIXED}"\nreason = "{REASON}"\n'
        'link = "https://tracker.example/API-77"\n'
    )
    with running_reference(window=2, extra_args=["--fault", FAULT]) as faulty:
        bad = _run(
            faulty.profile_path,
            folder,
            "--baseline",
            "baseline.json",
            "--known-deviations",
            str(known),
            "--report-html",
            "report.html",
        )
    assert bad.returncode == 1, bad.stdout[-2000:] + bad.stderr
    return folder / "report.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1800",
    ):
        options.add_argument(flag)
    # An explicit driver and browser: Selenium Manager never looks for a download.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_person_sees_the_failing_rule_its_reproduction_and_the_known_deviations(
    html_report: Path, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(html_report.as_uri())
    banner = browser.find_element(By.ID, "result")
    assert banner.is_displayed()
    assert banner.text.startswith("FAILED")

    changes = browser.find_element(By.ID, "changes")
    assert "new failure" in changes.text
    assert BROKEN in changes.text

    rule = browser.find_element(By.ID, f"rule-{BROKEN}")
    assert rule.is_displayed()
    assert rule.get_attribute("open") is not None  # failures are unfolded
    assert "max_duration = 1201 rejected with 422" in rule.text
    curl = rule.find_element(By.CSS_SELECTOR, "pre.curl code")
    assert curl.is_displayed()
    assert curl.text.startswith("curl -i -X POST")
    assert "$REPLYGUARD_TOKEN" in curl.text
    assert "HTTP 201" in rule.find_element(By.CSS_SELECTOR, "pre.answer").text

    deviations = browser.find_element(By.ID, "known-deviations")
    assert deviations.is_displayed()
    assert REASON in deviations.text
    assert "fixed: remove it from the list" in deviations.text

    shots = [tmp_path / "report.png", SCREENSHOTS / "gate-report.png"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        assert browser.save_screenshot(str(shot)), shot
        assert shot.stat().st_size > 10_000

    # The copy button puts the reproduction on the clipboard and says so.
    button = rule.find_element(By.CSS_SELECTOR, "pre.curl button.copy")
    button.click()
    assert button.text in ("copied", "copy")

    # The filter: typing another rule's name hides the failing one; clearing shows it again.
    box = browser.find_element(By.ID, "filter-text")
    box.send_keys("ringing_time")
    assert not rule.is_displayed()
    assert browser.find_element(By.ID, f"rule-{FIXED}").is_displayed()
    box.clear()
    browser.execute_script("applyFilter()")
    assert rule.is_displayed()

    # Rules the --rules selection left out are hidden until asked for.
    left_out = browser.find_element(By.ID, "rule-reply.response.shape")
    assert not left_out.is_displayed()
    browser.find_element(By.ID, "show-left-out").click()
    assert left_out.is_displayed()


@pytest.fixture(scope="module")
def ratelimit_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """HTML reports of the rate-limit rules: a correct server and one serving a call too many."""
    folder = tmp_path_factory.mktemp("browser-ratelimit")
    out = {}
    for name, extra in (
        ("correct", []),
        ("limit-plus-one", ["--fault", "ratelimit.limit-plus-one"]),
    ):
        with running_reference(window=2, extra_args=extra) as server:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "replyguard.cli",
                    "check",
                    "--target",
                    str(server.profile_path),
                    "--rules",
                    "ratelimit.*",
                    "--report-html",
                    f"{name}.html",
                ],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=folder,
            )
        assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr
        out[name] = folder / f"{name}.html"
    return out


def test_a_person_sees_the_limit_call_by_call(
    ratelimit_reports: dict[str, Path], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    def marks(page: Path, shot: str) -> dict[str, int]:
        browser.get(page.as_uri())
        section = browser.find_element(By.ID, "ratelimit")
        browser.execute_script("arguments[0].scrollIntoView();", section)
        assert "documented: 5 per 2 s" in browser.find_element(By.ID, "limiter-summary").text
        plot = section.find_element(By.CSS_SELECTOR, "svg.rl-timeline")
        assert plot.is_displayed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in (tmp_path / f"{shot}.png", SCREENSHOTS / f"{shot}.png"):
            assert browser.save_screenshot(str(path)), path
            assert path.stat().st_size > 10_000
        return {
            kind: len(plot.find_elements(By.CSS_SELECTOR, f"g.{kind}"))
            for kind in ("call.served", "call.refused", "limit-window.over")
        }

    held = marks(ratelimit_reports["correct"], "ratelimit-report")
    assert held["call.served"] >= 5, held
    assert held["call.refused"] >= 1, held
    assert held["limit-window.over"] == 0, held
    over = marks(ratelimit_reports["limit-plus-one"], "ratelimit-report-limit-plus-one")
    assert over["limit-window.over"] >= 1, over
