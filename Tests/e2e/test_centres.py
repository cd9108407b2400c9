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
