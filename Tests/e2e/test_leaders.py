"""Issue #24, item 2: a leader drills an indicator down from the city to a county and its towns, on a desktop and a phone."""
import re
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def test_a_leader_drills_an_indicator_down_to_the_towns(browser):
    for width, height, name in [(1280, 900, "desktop"), (390, 844, "phone")]:
        page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
        sign_in(page, "leader")
        page.goto(BASE + "/admin/indicators")
        page.locator("a[href*='/admin/indicators/town_station_coverage']").first.click()
        expect(page.get_by_role("heading", name=re.compile("下一级单位"))).to_be_visible()
        county = page.locator("td[data-label='单位'] a").first
        county_name = county.inner_text()
        county.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(county_name)
        expect(page.get_by_role("link", name=re.compile("上一级"))).to_be_visible()
        assert page.locator("td[data-label='单位']").count() > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, "indicator-drilldown-" + name)
