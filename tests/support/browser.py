"""Headless Chromium through Debian's chromium-driver, for the dashboard's browser tests."""

from __future__ import annotations

import base64
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from selenium import webdriver

# Root in a container needs --no-sandbox; the machine has no internet, so nothing may phone home.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
    "--window-size=1280,900", "--force-device-scale-factor=1",
)


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver_path:
        raise RuntimeError("chromium and chromedriver are missing: `bash infra/browser.sh up` installs them")
    profile = tempfile.mkdtemp(prefix="dashboard-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Both paths given: Selenium Manager, which would try to download a driver, never runs.
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: webdriver.Chrome, path: Path, width: int, *, mobile: bool, max_height: int = 2400) -> int:
    """The page at ``width`` CSS pixels (as a phone when ``mobile``), as tall as its content
    up to ``max_height``, saved as PNG. Returns how wide the page's content was, at that width."""
    scale = 2 if mobile else 1
    metrics = {"width": width, "height": 900, "deviceScaleFactor": scale, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    height, content_width = driver.execute_script(
        "return [document.documentElement.scrollHeight, document.documentElement.scrollWidth]")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": min(height, max_height)})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return int(content_width)
