"""Issue #20: each journey as its person walks it, at the width where it broke."""
import re
from playwright.sync_api import expect
from conftest import BASE, precheck, shot, sign_in


def test_a_citizen_not_signed_in_prechecks_signs_in_and_applies_on_a_phone(phone):
    page = phone
    precheck(page, 4, 2600)
    # The verdict is where the eye is: on the first screen, with the focus.
    verdict = page.locator("#result")
    expect(verdict).to_be_focused()
    box = verdict.bounding_box()
    assert box["y"] < 844, box
    expect(verdict.get_by_text("初步符合法律援助条件")).to_be_visible()
    shot(page, "journey-precheck-verdict-phone")

    # Not signed in: the citizen's sign-in, then back to the application with the pre-check's figures.
    page.get_by_role("link", name="在线申请法律援助").click()
    expect(page).to_have_url(re.compile(r"/login/citizen\?next="))
    expect(page.get_by_text("登录后将回到您刚才的页面")).to_be_visible()
    page.get_by_label("手机号").fill("13800000000")
    page.get_by_text("使用密码登录").click()
    page.get_by_label("密码").fill("demo12348")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(r"/legal-aid/apply\?"))
    expect(page.get_by_label("家庭人口（人）")).to_have_value("4")
    expect(page.get_by_label("家庭月总收入（元）")).to_have_value("2600")

    # The place as people name it: the list offers paths, never codes.
    place = page.locator("#regionCode-list option").nth(3).get_attribute("value")
    assert " · " in place and not re.search(r"\d{6}", place), place
    page.get_by_label("所在村（社区）或镇（街道）").fill(place)
    page.get_by_label("案情简述").fill("在工地打工半年，老板拖欠工资两万元。")
    page.get_by_label("申请人姓名").fill("王秀英")
    page.get_by_label("本人承诺如实说明家庭经济状况，如有虚假愿承担相应责任").check()
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text(re.compile(r"法律援助申请已提交，编号 FW\d{14}"))).to_be_visible()
    number = re.search(r"FW\d{14}", page.locator(".flash").inner_text()).group(0)

    # A receipt to keep, and the message in 我的事项.
    page.get_by_role("link", name="受理回执（可打印）").click()
    expect(page.get_by_role("heading", name="受理回执")).to_be_visible()
    expect(page.get_by_text("事项编号：" + number)).to_be_visible()
    expect(page.get_by_text(place.split(" · ")[-1], exact=True)).to_be_visible()
    shot(page, "journey-receipt-phone")
    page.goto(BASE + "/my")
    expect(page.get_by_role("heading", name="最新消息")).to_be_visible()
    expect(page.get_by_text(re.compile(number + r" 已提交"))).to_be_visible()
    shot(page, "journey-my-phone")


def test_elder_mode_enlarges_every_control_and_the_phone_navigation_shows_every_destination(phone):
    page = phone
    sign_in(page, "county-admin")
    page.goto(BASE + "/work")
    # Every navigation link is within the screen: none hides off to the right.
    width = page.viewport_size["width"]
    for link in page.get_by_role("navigation", name="主导航").get_by_role("link").all():
        box = link.bounding_box()
        assert box["x"] + box["width"] <= width + 1, link.inner_text()
    page.get_by_role("button", name="长者模式").click()
    expect(page.locator("body")).to_have_class(re.compile("elder"))
    page.goto(BASE + "/window")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main input:not([type=hidden])')).fontSize)")
    assert size >= 20, size
    hint = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.hint, .small, .muted')).fontSize)")
    assert hint >= 18, hint
    button = page.get_by_role("button", name="标准模式").bounding_box()
    assert button["height"] >= 44, button
    shot(page, "journey-elder-window-phone")
    page.get_by_role("button", name="标准模式").click()


def test_site_search_and_the_accessibility_statement(desktop):
    page = desktop
    page.goto(BASE + "/")
    page.get_by_role("link", name="站内搜索").click()
    page.get_by_label("搜索办事指南和页面").fill("公证")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_role("link", name="出生公证")).to_be_visible()
    page.get_by_role("link", name="无障碍声明").click()
    expect(page.get_by_role("heading", name="无障碍声明")).to_be_visible()
    expect(page.get_by_role("heading", name="我要纠错")).to_be_visible()
