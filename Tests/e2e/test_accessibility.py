"""Issue #20: every page each role uses passes the automated accessibility checks (axe-core, bundled by
axe-playwright-python and injected into the page, nothing fetched): no critical or serious finding, at phone and
desktop widths, including a form answered with errors."""
import datetime
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import BASE, sign_in

# Last month's report, which the demo writes on its first start (the server runs on the wall clock).
_first = datetime.date.today().replace(day=1)
LAST_MONTH = (_first - datetime.timedelta(days=1)).strftime("%Y-%m")

PAGES = {
    None: ["/", "/services", "/services/legal_aid.civil", "/legal-aid", "/lookup", "/login", "/login/citizen", "/accessibility",
           "/search?q=%E5%85%AC%E8%AF%81", "/appointments", "/statistics"],
    "operator": ["/hotline", "/work", "/hotline/quality", "/hotline/wallboard"],
    "clerk": ["/window", "/queue"],
    "aid": ["/legal-aid/desk"],
    "lawyer": ["/work", "/notifications"],
    "adviser": ["/adviser"],
    "leader": ["/admin", "/admin/indicators", "/admin/indicators/mediation_success_rate", "/admin/scorecards", "/reports/monthly",
               "/reports/monthly/" + LAST_MONTH, "/admin/supply-demand", "/command"],
    "admin": ["/admin/scorecards/weights", "/admin/institutions", "/admin/practitioners", "/admin/catalog", "/grassroots", "/mediation"],
}

AXE = Axe()


def serious(page):
    found = AXE.run(page).response["violations"]
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in found if v["impact"] in ("critical", "serious")]


@pytest.mark.parametrize("width", [390, 1280])
def test_each_roles_pages_have_no_serious_accessibility_findings(browser, width):
    problems = []
    for user, paths in PAGES.items():
        ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        page = ctx.new_page()
        if user:
            sign_in(page, user)
        for path in paths:
            page.goto(BASE + path)
            problems += [(user, path) + p for p in serious(page)]
        if user == "operator":
            # A form answered with errors: the summary, the marked fields, a matter's work page.
            page.goto(BASE + "/hotline")
            page.get_by_role("button", name="建单派发").click()
            problems += [(user, "/hotline (errors)") + p for p in serious(page)]
            page.get_by_label("来电号码").fill("13%09d" % (width * 1000 + 7))
            page.get_by_label("姓名").fill("赵敏")
            page.locator("label.pill", has_text="劳动保障").click()
            page.get_by_label("诉求").fill("公司拖欠工资两个月")
            page.get_by_label("所在地").fill("349901001002")
            page.get_by_role("button", name="建单派发").click()
            page.wait_for_url("**/work/*")
            problems += [(user, "/work/:id") + p for p in serious(page)]
        ctx.close()
    assert problems == []
