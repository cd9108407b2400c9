import os
import pytest
from playwright.sync_api import sync_playwright

BASE = os.environ.get("PLS_BASE_URL", "http://127.0.0.1:8080")
SHOTS = os.environ.get("PLS_SCREENSHOTS")


def chromium_path():
    for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(p):
            return p
    return None


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def desktop(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    yield page
    ctx.close()


def shot(page, name):
    """Keeps a screenshot for people to look at when PLS_SCREENSHOTS names a folder."""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)


def sign_in(page, username, password="demo12348"):
    page.goto(BASE + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def precheck(page, size, income, county="349901000000", matter="labor_relationship_or_pay"):
    """The legal aid pre-check as a citizen fills it in."""
    page.goto(BASE + "/legal-aid")
    page.get_by_label("您要解决的问题").select_option(matter)
    page.get_by_label("您所在的县（区）").select_option(county)
    page.get_by_label("家庭人口（人）").fill(str(size))
    page.get_by_label("家庭月总收入（元）").fill(str(income))
    page.get_by_role("button", name="开始预审").click()
