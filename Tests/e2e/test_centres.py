"""Issue #23: a visitor takes a ticket on the hall's kiosk (phone-sized), the window calls it, the hall screen shows it
without a reload."""
import re
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def test_a_ticket_taken_at_the_kiosk_is_called_and_shown_on_the_hall_screen(browser):
    clerk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(clerk, "clerk")
    clerk.goto(BASE + "/window")
    clerk.get_by_role("link", name="窗口叫号").click()
    expect(clerk.get_by_role("heading", name=re.compile("窗口叫号"))).to_be_visible()
    centre = re.search(r"/centres/([^/]+)/queue", clerk.url).group(1)

    hall = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    hall.goto(BASE + "/centres/%s/hall" % centre)

    kiosk = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
    kiosk.goto(BASE + "/centres/%s/kiosk" % centre)
    kiosk.locator("input[value=notarization]").check()
    kiosk.get_by_label("优先办理（可不选）").select_option("disabled")
    kiosk.get_by_role("button", name="取号").click()
    number = kiosk.locator(".ticket-number").inner_text()
    assert re.fullmatch(r"D\d{3,}", number), number
    expect(kiosk.get_by_text("优先（残疾人）", exact=False)).to_be_visible()
    assert kiosk.evaluate("document.documentElement.scrollWidth") <= 390
    shot(kiosk, "centre-kiosk-phone")

    # The window calls: the disabled visitor's priority ticket comes before anyone who came earlier without one.
    clerk.reload()
    clerk.get_by_label("窗口号").fill("7")
    clerk.get_by_role("button", name="叫下一位").click()
    expect(clerk.get_by_text(re.compile("请 %s 号到 7 号窗口" % number))).to_be_visible()
    expect(hall.locator(".hall-latest")).to_contain_text(number, timeout=6000)
    expect(hall.locator(".hall-latest")).to_contain_text("7 号窗口")
    shot(hall, "centre-hall-1920")


def test_a_citizen_books_a_slot_on_a_phone_and_the_kiosk_refuses_a_wrong_code(browser):
    from test_intake import sign_in_citizen
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
    sign_in_citizen(page)
    page.get_by_role("link", name="预约办理").click()
    # An earlier booking of the day (the demo's, an earlier run's) is cancelled first: one a day at a centre.
    while page.get_by_role("button", name="取消").count() > 0:
        page.get_by_role("button", name="取消").first.click()
        expect(page.locator(".flash")).to_contain_text("已取消")
    page.get_by_label("服务中心").select_option(index=1)
    page.get_by_role("button", name="查看可约时段").click()
    page.locator("input[name=slot]:not([disabled])").first.check()
    page.get_by_label("办理事项").select_option("mediation")
    page.get_by_label("姓名").fill("王秀英")
    page.get_by_label("手机号（接收预约码）").fill("13800000000")
    page.get_by_role("button", name="确认预约").click()
    expect(page.get_by_text("预约成功")).to_be_visible()
    code = page.locator(".ticket-number").inner_text()
    expect(page.get_by_role("cell", name=code)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "appointment-booked-phone")
    centre = page.get_by_label("服务中心").input_value() if page.get_by_label("服务中心").count() else None

    # At the kiosk a code that is not today's is refused in plain words.
    kiosk = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
    kiosk.goto(BASE + "/centres/%s/kiosk" % centre)
    kiosk.get_by_label(re.compile("预约码签到")).fill("000000")
    kiosk.get_by_role("button", name="预约签到").click()
    expect(kiosk.locator(".error-summary")).to_contain_text("预约")


def test_the_bureau_sets_a_centres_windows_and_rota(browser):
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
    sign_in(page, "admin")
    page.goto(BASE + "/appointments")
    centre = page.get_by_label("服务中心").locator("option", has_text="公共法律服务中心").first.get_attribute("value")
    page.goto(BASE + "/centres/%s/setup" % centre)
    page.get_by_label("窗口号").fill("9")
    page.get_by_label("公证").check()
    page.get_by_role("button", name="保存窗口").click()
    expect(page.get_by_text("已保存 9 号窗口")).to_be_visible()
    expect(page.get_by_role("cell", name="9 号")).to_be_visible()
    page.locator("select[aria-label='9 号窗口值班']").first.select_option(index=1)
    page.get_by_role("button", name="保存值班表").click()
    expect(page.get_by_text("已保存值班表")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "centre-setup-phone")
