"""The dashboard in real headless Chromium, against real api, pipeline and projector processes:
sign in, start a run, watch its bars reach 100 % from the stream, pause and resume it, read
its history and articles, see validation errors at the fields and refusals as sentences.
Saves its screenshots under .run/screenshots/ (or SCREENSHOTS_DIR, e.g. docs/screenshots)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import chromium, screenshot
from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.e2e
# Each run writes its screenshots under .run/ so a test run leaves the tree clean;
# SCREENSHOTS_DIR=docs/screenshots refreshes the ones the README shows.
SCREENSHOTS = ROOT / os.environ.get("SCREENSHOTS_DIR", ".run/screenshots")


@pytest.fixture(scope="module")
def paced() -> Iterator[Stack]:
    """Every offline AI call takes 200 ms: a run lasts long enough to watch and steer."""
    with Stack("dashboard", OFFLINE_AI_LATENCY_MS="200") as running:
        yield running


@pytest.fixture(scope="module")
def papi(paced: Stack) -> Api:
    return Api(paced.base_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Chrome]:
    with chromium() as driver:
        yield driver


def wait(driver: Chrome, condition: Callable[[Chrome], object], timeout: float = 60, what: str = "") -> object:
    # The page re-renders as the stream pushes: an element read mid-render is just read again.
    waiter = WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))
    return waiter.until(lambda d: condition(d), message=what)


def find(driver: Chrome, selector: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, selector)


def text_of(driver: Chrome, selector: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""


def bars(driver: Chrome) -> list[int]:
    return [int(bar.get_attribute("aria-valuenow")) for bar in driver.find_elements(By.CSS_SELECTOR, ".bar")]


def sign_in(driver: Chrome, stack: Stack, tenant: Tenant) -> None:
    driver.get(f"{stack.base_url}/")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{stack.base_url}/")
    token = wait(driver, lambda d: d.find_element(By.ID, "token"), what="sign-in form")
    token.send_keys(tenant.token)
    find(driver, "#sign-in").click()
    wait(driver, lambda d: text_of(d, "#stream-state") == "live", what="the stream is open")
    wait(driver, lambda d: text_of(d, "#estimated-credits"), what="the estimate")


def test_sign_in_run_watch_pause_resume_and_read_the_outputs(paced: Stack, papi: Api, browser: Chrome) -> None:
    tenant = papi.tenant()
    papi.import_keywords(tenant, keyword_set(topics=2, per_topic=4))
    papi.configure(tenant, within_stage_delay=0, between_stage_delay=0, stage_1_batch_size=2)
    sign_in(browser, paced, tenant)
    assert tenant.token not in browser.current_url
    assert "Blog" in text_of(browser, ".site-tab.current")
    assert bars(browser) == [0] * 7

    find(browser, "#run-now").click()
    wait(browser, lambda d: text_of(d, "#run-status") == "RUNNING", what="the run is shown running")
    wait(browser, lambda d: bars(d)[0] > 0, what="stage 1 moves")
    find(browser, "#pause").click()
    wait(browser, lambda d: text_of(d, "#run-status") == "PAUSED", what="the run is shown paused")
    assert "Paused by a user" in text_of(browser, ".run-meta")
    assert not find(browser, "#resume").get_attribute("disabled")
    assert find(browser, "#pause").get_attribute("disabled")
    assert bars(browser) != [100] * 7
    screenshot(browser, SCREENSHOTS / "dashboard-paused.png", 1280, mobile=False, max_height=900)

    find(browser, "#resume").click()
    wait(browser, lambda d: text_of(d, "#run-status") == "COMPLETED", timeout=180, what="the run completes")
    wait(browser, lambda d: bars(d) == [100] * 7, what="every bar reaches 100 %")
    assert all(row.text.endswith("100 %") for row in browser.find_elements(By.CSS_SELECTOR, ".stage-count"))
    log = text_of(browser, "#live-log")
    assert "Run paused" in log and "Run resumed" in log and "Run completed" in log
    assert find(browser, "#run-now").is_enabled()

    # the history shows the run; its detail has the log and the articles with their images
    wait(browser, lambda d: "COMPLETED" in text_of(d, "#history tbody tr"), what="the history lists the run")
    find(browser, "#history tbody tr[data-run] .link").click()
    wait(browser, lambda d: "Review gate" in text_of(d, "#run-detail .stage-results"), what="the run's stages")
    assert "Run completed" in browser.find_element(By.ID, "run-log").get_attribute("textContent")
    article = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".article summary"), what="articles")[0]
    article.click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".article-body h3"), what="the article's body")
    wait(browser, lambda d: d.execute_script(
        "const shown = [...document.querySelectorAll('.gallery img')];"
        "return shown.length > 0 && shown.every((i) => i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0)"
    ), what="the article's images")

    errors = [entry for entry in browser.get_log("browser") if entry["source"] == "javascript"]
    assert not errors, errors  # no exception in our own scripts along the way

    browser.execute_script("window.scrollTo(0, 0)")
    assert screenshot(browser, SCREENSHOTS / "dashboard-desktop.png", 1280, mobile=False) <= 1280
    assert screenshot(browser, SCREENSHOTS / "dashboard-phone.png", 390, mobile=True, max_height=1900) <= 390


def test_the_form_shows_each_problem_at_its_field(paced: Stack, papi: Api, browser: Chrome) -> None:
    first = papi.tenant()
    papi.admin("POST", f"/api/v1/admin/accounts/{first.account_id}/sites", json={"name": "Shop", "domain": "shop.example"})
    sign_in(browser, paced, first)
    tabs = browser.find_elements(By.CSS_SELECTOR, ".site-tab")
    assert [tab.text.split("\n")[0] for tab in tabs] == ["Blog", "Shop"]
    tabs[1].click()
    wait(browser, lambda d: text_of(d, "#site-name") == "Shop", what="the second site")
    wait(browser, lambda d: text_of(d, "#stream-state") == "live", what="the second site's stream")
    site_id = tabs[1].get_attribute("data-site")
    tenant = Tenant(first.account_id, site_id, first.token)
    batch = wait(browser, lambda d: d.find_element(By.ID, "config-stage_1_batch_size"), what="the form")
    batch.clear()
    batch.send_keys("0")
    when = find(browser, "#config-scheduled_time")
    when.clear()
    when.send_keys("25:99")
    find(browser, "#save-config").click()
    wait(browser, lambda d: text_of(d, "#config-stage_1_batch_size-error"), what="the batch size's problem")
    assert "greater than or equal to 1" in text_of(browser, "#config-stage_1_batch_size-error")
    assert text_of(browser, "#config-scheduled_time-error")
    assert batch.get_attribute("aria-invalid") == "true"
    assert text_of(browser, "#config-status") == "Some values are not valid. See the fields marked below."
    assert papi.call(tenant.token, "GET", "/api/v1/automation/config",
                     params={"site_id": tenant.site_id}).json()["stage_1_batch_size"] == 20  # nothing changed

    batch.clear()
    batch.send_keys("5")
    when.clear()
    when.send_keys("06:30")
    find(browser, "#save-config").click()
    wait(browser, lambda d: text_of(d, "#config-status").startswith("Saved"), what="saved")
    assert not text_of(browser, "#config-stage_1_batch_size-error")
    assert papi.call(tenant.token, "GET", "/api/v1/automation/config",
                     params={"site_id": tenant.site_id}).json()["stage_1_batch_size"] == 5


def test_refusals_read_as_sentences(paced: Stack, papi: Api, browser: Chrome) -> None:
    poor = papi.tenant(credits=0)
    papi.import_keywords(poor, keyword_set(topics=1, per_topic=3))
    sign_in(browser, paced, poor)
    find(browser, "#run-now").click()
    wait(browser, lambda d: text_of(d, "#notice"), what="the refusal")
    notice = text_of(browser, "#notice")
    assert notice.startswith("This run needs ") and "but the account has 0 credits available" in notice, notice
    assert "A run now needs" in text_of(browser, ".estimate")
    # Run now is disabled while a run is active, so run_active shows only when another tab or
    # the scheduler won the race: its sentence is checked directly.
    active = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import('/dashboard/api.js').then((api) => done(api.sentence({ code: 'run_active', details: {} })));")
    assert active.startswith("This site already has a run in progress.")

    browser.execute_script("sessionStorage.setItem('automation.token', 'not-a-token')")
    browser.refresh()
    wait(browser, lambda d: text_of(d, "#sign-in-error"), what="the sign-in error")
    assert text_of(browser, "#sign-in-error") == "This token was not accepted. Check it and sign in again."
