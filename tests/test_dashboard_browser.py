"""The dashboard in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium) opens the dashboard of ``arbiter serve`` over
the demo's database, signs in with a team key, and finds the verdict, the chart and the
per-arm table; then checks the page fits a phone's width. Screenshots are saved as test
artefacts (``ARBITER_TEST_ARTIFACTS``, default ``artifacts/`` at the repository root).

Skipped, with the reason, where Chromium or its driver is not installed; ``.ci/run``
installs both so the test runs in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import arbiter, served

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("ARBITER_TEST_ARTIFACTS", ROOT / "artifacts"))
DISPUTE = "webinar-vs-cold-call"

pytestmark = [
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
        reason="headless Chromium is not installed (Debian packages chromium and "
        "chromium-driver; .ci/run installs them)",
    ),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    out = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "ARBITER_DATABASE_URL": f"sqlite:///{out / 'arbiter-demo.db'}"}
    env.pop("ARBITER_SECRET_KEY", None)
    arbiter(env, "demo", "--out", str(out))
    key = arbiter(env, "keys", "create", "--role", "team", "--party", "marketing", "--bare")
    with served(env) as base:
        yield base, key.strip()


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1200,900")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _full_page_screenshot(driver, path: Path, width: int) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 120, 6000))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))


def _loaded(driver, element_id: str, timeout: float = 30) -> object:
    """The element with ``element_id`` once the page that has it finished loading.

    A click on a submit button returns when the navigation starts, not when the next
    page is rendered; on a loaded two-core machine the gap is long enough for an
    immediate lookup to miss. On a time-out the page's text is in the message."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d) -> object:
        if d.execute_script("return document.readyState") != "complete":
            return False
        found = d.find_elements(By.ID, element_id)
        return found[0] if found else False

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(ready)
    except TimeoutException:
        text = driver.execute_script("return document.body ? document.body.innerText : ''")
        raise AssertionError(
            f"no #{element_id} on {driver.current_url} after {timeout} s; the page says:\n"
            f"{str(text)[:2000]}"
        ) from None


def test_a_team_signs_in_and_sees_the_verdict_chart_and_arms(demo_server, browser):
    from selenium.webdriver.common.by import By

    base, key = demo_server
    browser.get(f"{base}/dashboard/experiments/{DISPUTE}")
    assert "/dashboard/sign-in" in browser.current_url  # no session yet
    _loaded(browser, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    verdict = _loaded(browser, "verdict")
    assert browser.current_url.endswith(f"/dashboard/experiments/{DISPUTE}")
    assert "winner" in verdict.text and "cold-call follow-up" in verdict.text
    assert "95% CI" in verdict.text
    chart = browser.find_element(By.CSS_SELECTOR, "#chart svg")
    assert chart.size["width"] > 300 and chart.size["height"] > 150
    series = {
        g.get_attribute("data-series")
        for g in browser.find_elements(By.CSS_SELECTOR, "#chart svg g.series")
    }
    assert {"efficacy boundary", "cold-call vs webinar"} <= series
    rows = browser.find_elements(By.CSS_SELECTOR, "#arm-table tbody tr")
    assert [r.get_attribute("data-arm") for r in rows] == ["webinar", "cold-call"]
    assert "marketing · team" in browser.find_element(By.TAG_NAME, "header").text
    _full_page_screenshot(browser, ARTIFACTS / "dashboard-dispute.png", 1200)

    browser.get(f"{base}/dashboard")
    assert DISPUTE in _loaded(browser, "disputes").text

    browser.set_window_size(390, 844)  # a phone
    browser.get(f"{base}/dashboard/experiments/{DISPUTE}")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, "the page is wider than a phone's screen"
    _full_page_screenshot(browser, ARTIFACTS / "dashboard-phone.png", 390)

    browser.find_element(By.CSS_SELECTOR, "header form button").click()  # sign out
    _loaded(browser, "key")  # the sign-in form
    assert "/dashboard/sign-in" in browser.current_url
    browser.get(f"{base}/dashboard")
    assert "/dashboard/sign-in" in browser.current_url
