"""The workbench end to end in headless Chromium (Debian's chromium, driven by Selenium through Debian's
chromium-driver): open the example workbook, solve, lock a function, solve again, compare the two
scenarios, ask why for one function, download the report; what the page shows is checked at each step
against outopt's own answers, and a screenshot of each step is saved (to $OUTOPT_SCREENSHOTS when set).

CI installs chromium and chromium-driver (.ci/run) and sets OUTOPT_REQUIRE_BROWSER=1, so there a
missing browser fails the test instead of skipping it.
"""

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import INSTANCES
from webserver import serving

import outopt

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WAIT = 60  # seconds for a step on a loaded 2-core machine


def browser_paths() -> tuple[str, str]:
    found = shutil.which("chromium"), shutil.which("chromedriver")
    if all(found):
        return found
    if os.environ.get("OUTOPT_REQUIRE_BROWSER"):
        pytest.fail("chromium and chromium-driver are not installed (OUTOPT_REQUIRE_BROWSER is set)")
    pytest.skip("chromium or chromedriver is not installed")


@pytest.fixture
def browser(tmp_path):
    chromium, driver_path = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1280,1800", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def text(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def wait_for(driver, condition, what: str):
    """Wait until ``condition(driver)`` is true (the page swaps whole sections: look again each time)."""
    def check(d):
        try:
            return condition(d)
        except Exception:  # noqa: BLE001 - an element swapped out mid-look: look again
            return False
    return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(check, message=what)


class Shots:
    def __init__(self, driver, folder: Path):
        self.driver, self.folder, self.n = driver, folder, 0
        folder.mkdir(parents=True, exist_ok=True)
        self.copy_to = Path(os.environ["OUTOPT_SCREENSHOTS"]) if os.environ.get("OUTOPT_SCREENSHOTS") else None

    def __call__(self, name: str) -> Path:
        self.n += 1
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, min(max(height, 800), 5000))
        path = self.folder / f"{self.n}-{name}.png"
        assert self.driver.save_screenshot(str(path))
        assert path.stat().st_size > 20_000  # a rendered page, not a blank one
        if self.copy_to:
            self.copy_to.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.copy_to / path.name)
        return path


def money(x: float) -> str:
    return f"{x:,.0f}"


def solve_in_page(driver, name: str) -> None:
    field = driver.find_element(By.ID, "scenario-name")
    field.clear()
    field.send_keys(name)
    driver.find_element(By.ID, "solve").click()
    # the answer to the click is the page with the job's progress line and its cancel button
    wait_for(driver, lambda d: f"solving {name}" in text(d, "#jobs") or
             f"Plan: {name}" in text(d, "#plan h2"), f"the progress line of {name}")
    wait_for(driver, lambda d: f"Plan: {name}" in text(d, "#plan h2") and not d.find_elements(By.ID, "jobs"),
             f"the plan of {name}")


def provider_of(driver, function: str) -> str:
    return text(driver, f"#decisions tr[data-function='{function}'] td.provider")


def test_open_solve_steer_compare_explain_download(browser, tmp_path):
    xlsx = tmp_path / "brightpath.xlsx"
    inst = outopt.load(INSTANCES / "small_business.yaml")
    outopt.save(inst, xlsx)
    base = outopt.solve(inst)
    lock = {"function": "payroll", "provider": "numera", "reason": "three-year contract"}
    locked_inst = outopt.apply_overrides(inst, {"add": {"rules.locks": [lock]}})
    locked = outopt.solve(locked_inst)
    explanation = outopt.explain(locked_inst)
    why = next(r for r in explanation.functions if r["function"] == "collections")
    break_even = [(o["vendor"], money(o["cost"]), money(o["break_even_cost"])) for o in explanation.offers
                  if o["function"] == "collections"]
    assert break_even  # the offers it did not take, each with the cost at which it would
    assert base.plan["payroll"] != "numera" and locked.objective < base.objective  # the lock changes the plan

    with serving(None, tmp_path / "server-tmp") as server:
        driver, shot = browser, Shots(browser, tmp_path / "shots")
        driver.get(server.url + "/")
        assert "Open an instance" in text(driver, "#open")

        # 1. open the workbook
        driver.find_element(By.ID, "upload").send_keys(str(xlsx))
        driver.find_element(By.ID, "open-upload").click()
        wait_for(driver, lambda d: text(d, "#instance h2") == "BrightPath Ltd", "the opened instance")
        assert text(driver, "#notice") == "opened brightpath.xlsx: 8 functions, 4 vendors, 12 offers; valid"
        shot("opened")

        # 2. solve
        solve_in_page(driver, "Base")
        assert text(driver, "#status") == "optimal"
        assert text(driver, "#net-benefit") == money(base.objective)
        rows = driver.find_elements(By.CSS_SELECTOR, "#decisions tbody tr")
        assert len(rows) == 8
        assert {f: provider_of(driver, f) for f in base.plan} == \
            {f: "in-house" if p == "inhouse" else p for f, p in base.plan.items()}
        changed = driver.find_elements(By.CSS_SELECTOR, "#decisions tr.changed")
        assert len(changed) == int(base.assignments["changed"].sum())
        assert "Limits:" in text(driver, "#binding") and "budget.transition" in text(driver, "#binding")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#plan .chart svg")) == 3
        shot("solved")

        # 3. lock payroll to Numera, with a reason
        form = driver.find_element(By.CSS_SELECTOR, "#decisions tr[data-function='payroll'] form.steer")
        Select(form.find_element(By.NAME, "provider")).select_by_value("numera")
        form.find_element(By.NAME, "reason").send_keys("three-year contract")
        form.find_element(By.CSS_SELECTOR, "button[value='lock']").click()
        wait_for(driver, lambda d: "lock payroll to numera (three-year contract)" in text(d, "#edits"), "the lock")
        shot("locked")

        # 4. solve again
        solve_in_page(driver, "Payroll to Numera")
        assert text(driver, "#net-benefit") == money(locked.objective)
        assert provider_of(driver, "payroll") == "numera"
        shot("resolved")

        # 5. compare the two scenarios
        for box in driver.find_elements(By.CSS_SELECTOR, "#scenarios input[name='s']"):
            box.click()
        driver.find_element(By.ID, "compare").click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "comparison"), "the comparison")
        names = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#comparison thead th")][1:]
        assert names == ["Base", "Payroll to Numera"]
        delta = driver.find_elements(By.CSS_SELECTOR, "#comparison td[data-key='delta']")[1].text
        assert delta == f"{locked.objective - base.objective:+,.0f}"
        differing = {tr.get_attribute("data-function") for tr in
                     driver.find_elements(By.CSS_SELECTOR, "#changed tbody tr")}
        assert differing == {f for f in base.plan if base.plan[f] != locked.plan[f]}
        shot("compared")

        # 6. why does collections go where it goes (in the second scenario)?
        driver.find_element(By.CSS_SELECTOR, "#decisions tr[data-function='collections'] button.why").click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "why"), "the explanation")
        provider = "in-house" if locked.plan["collections"] == "inhouse" else locked.plan["collections"]
        assert text(driver, "#why h2") == f"Why collections goes to {provider} (Payroll to Numera)"
        assert text(driver, "#runner-up") == ("in-house" if why["runner_up"] == "inhouse" else why["runner_up"])
        assert text(driver, "#regret") == money(why["regret"])
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")][:3]
                for tr in driver.find_elements(By.CSS_SELECTOR, "#break-even tbody tr")]
        assert rows == [list(r) for r in break_even]
        shot("why")

        # 7. download the report
        driver.find_element(By.ID, "download-report").click()
        deadline = time.monotonic() + WAIT
        while not list(driver.downloads.glob("*.html")) and time.monotonic() < deadline:
            time.sleep(0.2)
        reports = list(driver.downloads.glob("*.html"))
        assert [r.name for r in reports] == ["BrightPath_Ltd-Payroll_to_Numera-report.html"]
        report = reports[0].read_text()
        assert "<h1>BrightPath Ltd: outsourcing plan</h1>" in report
        assert f"<b>{money(locked.objective)} USD a year</b>" in report
        assert "id='explanation'" in report  # the explanation asked for goes into the report
        shot("downloaded")
        assert server.leftovers() == []
