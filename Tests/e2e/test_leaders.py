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


def test_an_indicator_shows_this_year_against_last_with_a_table_beside_the_chart(browser):
    for width, height, name in [(1280, 900, "desktop"), (390, 844, "phone")]:
        page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
        sign_in(page, "leader")
        page.goto(BASE + "/admin/indicators/mediation_success_rate")
        expect(page.get_by_role("heading", name=re.compile("逐月走势"))).to_be_visible()
        chart = page.locator("svg[aria-label*='逐月累计值']")
        expect(chart).to_be_visible()
        # Two lines (this year, last year) and a row per month in the table beside them.
        assert chart.locator("polyline").count() == 2
        assert page.locator("table:has(th:text('上一年同期')) tbody tr").count() >= 2
        # 稳步提升: judged against last year's figure at the same point.
        expect(page.locator(".target-source").first).to_contain_text("去年同期")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, "indicator-series-" + name)


def test_the_county_scorecard_ranks_prints_and_exports(browser, tmp_path):
    import openpyxl
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True).new_page()
    sign_in(page, "admin")
    page.goto(BASE + "/admin/scorecards/weights")
    # The city weights mediation success double, scored in proportion.
    # Nothing chosen is refused with the reason (the browser itself keeps weights within 0.1–100).
    page.evaluate("document.querySelectorAll('input[type=checkbox]').forEach(c => c.checked = false)")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("请选择 1–100 项考核指标")).to_be_visible()
    page.evaluate("document.querySelectorAll('input[type=checkbox]').forEach(c => c.checked = true)")
    page.locator("input[name='weight_mediation_success_rate']").fill("20")
    page.locator("select[name='rule_mediation_success_rate']").select_option("proportional")
    page.locator("input[name='weight_on_time_rate']").fill("10")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("县（区）考核")
    rows = page.locator("table.scorecard tbody tr")
    assert rows.count() == 5
    expect(rows.first.locator("td[data-label='排名']")).to_have_text("1")
    expect(page.get_by_text("人民调解成功率（按完成比例得分）")).to_be_visible()
    shot(page, "scorecard-desktop")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    shot(page, "scorecard-print")
    page.emulate_media(media="screen")
    with page.expect_download() as d:
        page.get_by_role("link", name="导出 Excel").click()
    path = tmp_path / "scorecard.xlsx"
    d.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet.cell(1, 1).value == "排名" and sheet.cell(1, 2).value == "县（区）"
    assert sheet.max_row == 6
    # A past quarter is kept as it was computed.
    page.goto(BASE + "/admin/scorecards?period=2026-Q1")
    expect(page.get_by_text("已结束")).to_be_visible()


def test_the_command_screen_fills_a_1920_display_and_updates_itself(browser):
    page = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    sign_in(page, "leader")
    page.goto(BASE + "/command")
    expect(page.get_by_role("heading", name=re.compile("指挥大屏"))).to_be_visible()
    for title in ["今日受理", "12348 热线", "超期未办结", "差评待整改", "今日热点地区"]:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    assert page.locator(".cmd-indicators li").count() > 5
    assert page.locator(".cmd-indicators li.cmd-ok").count() > 0
    # One screen: nothing to scroll on the room's display.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080
    first = page.locator("[data-updated]").inner_text()
    page.wait_for_function("t => document.querySelector('[data-updated]').innerText !== t", arg=first, timeout=20000)
    shot(page, "command-screen-1920")


def test_a_monthly_report_is_archived_printable_and_exported(browser, tmp_path):
    import openpyxl
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True).new_page()
    sign_in(page, "leader")
    page.goto(BASE + "/reports/monthly")
    page.get_by_role("link", name="查看").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("月报")
    expect(page.get_by_role("heading", name=re.compile("指标完成情况"))).to_be_visible()
    assert page.locator("table.report-table tbody tr").count() > 5
    shot(page, "monthly-report")
    with page.expect_download() as d:
        page.get_by_role("link", name="导出 Excel").click()
    path = tmp_path / "report.xlsx"
    d.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    assert "月报" in sheet.cell(1, 1).value
    assert sheet.cell(2, 1).value == "指标"


def test_anyone_reads_the_public_statistics_on_a_phone_with_small_counts_withheld(browser):
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    page.goto(BASE + "/statistics")
    expect(page.get_by_role("heading", level=1)).to_contain_text("公共法律服务统计")
    expect(page.get_by_text("不公开")).to_be_visible()
    assert page.locator("table tbody tr").count() > 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "public-statistics-phone")


def test_supply_against_demand_marks_where_demand_outgrows_supply(browser):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(page, "leader")
    page.goto(BASE + "/admin/supply-demand")
    expect(page.get_by_role("heading", name=re.compile("需求热力表"))).to_be_visible()
    assert page.locator("table.heat tbody tr").count() == 5
    expect(page.get_by_text(re.compile("配备目标（每万人）：律师 3"))).to_be_visible()
    shot(page, "supply-demand")
    # The city's administrator sets the ratios on the page.
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    sign_in(page, "admin")
    page.goto(BASE + "/admin/supply-demand")
    page.get_by_label("律师").fill("3.5")
    page.get_by_role("button", name="保存目标").click()
    expect(page.get_by_text("已保存配备目标")).to_be_visible()
    expect(page.get_by_text(re.compile("配备目标（每万人）：律师 3.5"))).to_be_visible()
    shot(page, "supply-demand-targets-phone")
