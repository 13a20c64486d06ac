"""The journey in a real browser (Playwright on the system's Chromium, no download):
sign in -> upload with errors -> read the error summary -> fix -> resubmit ->
explain a query -> sign off (another account) -> publish (the board, with TOTP) ->
another authority sees the suppressed figure. axe-core checks every page on the
way for WCAG 2.2 A/AA, and no Content Security Policy violation may be reported."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from service.conftest import CAMDEN, CSC, PASSWORD, WITH_QUERY, return_csv

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _checker():
    spec = importlib.util.spec_from_file_location(
        "check_accessibility", ROOT / "scripts/check_accessibility.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


checker = _checker()
# Recorded in every page before its own scripts (an init script, so the CSP allows it).
CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture
def browser(live_server, monkeypatch):
    if not shutil.which("chromium") or not checker.AXE.exists():
        pytest.fail("needs the system chromium and axe-core (npm ci --prefix tests/browser)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM beside Playwright's loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=shutil.which("chromium"), args=[*checker.CHROMIUM_ARGS, "--headless"]
        )
        yield chromium
        chromium.close()


class Visit:
    """One signed-in browser context; every page it loads is checked with axe."""

    def __init__(self, browser, base: str, violations: list, csp: list) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.add_init_script(script=CSP_WATCH)
        self.context.add_init_script(path=str(checker.AXE))
        self.page = self.context.new_page()
        self.base, self.violations, self.csp = base, violations, csp

    def go(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="load")
        self.check()

    def check(self) -> None:
        found = self.page.evaluate(checker._RUN_AXE, checker.TAGS)
        self.violations += [f"{self.page.url}: {v['id']} {v['targets'][:2]}" for v in found]
        self.csp += self.page.evaluate("window.__csp")

    def sign_in(self, email: str, otp: str = "") -> None:
        self.go("/sign-in/")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        if otp:
            self.page.fill("#otp_token", otp)
        self.page.click("button:has-text('Sign in')")
        self.page.wait_for_load_state()
        assert "/sign-in/" not in self.page.url, self.page.content()[:500]
        self.check()


def _totp(user) -> str:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    d = TOTPDevice.objects.get(user=user)
    return f"{totp(d.bin_key, step=d.step, t0=d.t0):06d}"


def test_the_journey_in_a_browser(browser, live_server, accounts, window, tmp_path):
    from lscb_nb.service.collection.models import Submission

    violations: list[str] = []
    csp: list[str] = []
    base = live_server.url
    bad = tmp_path / "return_with_errors.csv"
    bad.write_bytes(return_csv() + return_csv(agency="police").split(b"\n", 1)[1])
    good = tmp_path / "return.csv"
    good.write_bytes(return_csv(scale=0.01, overrides=WITH_QUERY))

    csc = Visit(browser, base, violations, csp)
    csc.sign_in("csc@example.invalid")
    csc.go("/upload/")
    csc.page.set_input_files("#file", str(bad))
    csc.page.click("button:has-text('Upload and submit')")
    csc.page.wait_for_load_state()
    csc.check()
    summary = csc.page.locator(".govuk-error-summary").last
    assert "error" in summary.inner_text().lower()
    first = summary.locator("a").first
    target = first.get_attribute("href")
    first.focus()
    csc.page.keyboard.press("Enter")  # keyboard only: the link leads to the row
    assert csc.page.locator(target).count() == 1
    csc.page.set_input_files("#file", str(good))
    csc.page.click("button:has-text('Upload and submit')")
    csc.page.wait_for_load_state()
    csc.check()
    csc.page.click("text=version 2")
    csc.page.wait_for_load_state()
    csc.check()
    sub = Submission.objects.get(number=2)
    assert sub.status == "submitted" and sub.queries >= 1
    csc.page.fill("textarea[name=text]", "Children moved in from another authority.")
    csc.page.click("button:has-text('Save explanation')")
    csc.page.wait_for_load_state()
    csc.check()

    lead = Visit(browser, base, violations, csp)
    lead.sign_in("lead@example.invalid")
    lead.go(f"/versions/{sub.pk}/")
    lead.page.click("button:has-text('Sign off')")
    lead.page.wait_for_load_state()
    lead.check()
    lead.go("/benchmark/")
    lead.go("/audit/")

    admin = Visit(browser, base, violations, csp)
    admin.sign_in("admin@example.invalid", _totp(accounts["admin"][0]))
    admin.go(f"/versions/{sub.pk}/")
    admin.page.click("button:has-text('Accept')")
    admin.page.wait_for_load_state()
    admin.page.click("button:has-text('Publish')")
    admin.page.wait_for_load_state()
    admin.check()
    admin.go("/windows/")
    admin.go("/")
    sub.refresh_from_db()
    assert sub.status == "published"

    other = Visit(browser, base, violations, csp)
    other.sign_in("other_lead@example.invalid")
    other.go("/benchmark/")
    other.page.select_option("#item", "CSC01")
    other.page.click("button:has-text('Show')")
    other.page.wait_for_load_state()
    other.check()
    name = "Other authorities' published figures for CSC01, latest quarter (c: suppressed)"
    table = other.page.get_by_role("table", name=name, exact=True).inner_text()
    assert "Camden" in table and "\tc\t" in table, table[:400]
    other.go("/accessibility/")
    other.go(f"/versions/{sub.pk}/")  # another authority's version: not found
    assert other.page.locator("h1").inner_text() == "Page not found"
    assert (sub.la_code_ons, sub.agency) == (CAMDEN, CSC)
    assert not csp, csp
    assert not violations, "\n".join(violations)
