"""Issue #20: each journey as its person walks it, at the width where it broke."""
import random
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
    # Larger text never pushes a page wider than the phone (a long option, a file input, a run of column names).
    for path in ["/window", "/grassroots", "/work", "/admin/indicators"]:
        page.goto(BASE + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
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


def new_call(page, mobile, category="劳动保障", text="公司拖欠工资两个月，想咨询怎么办"):
    """The operator takes down a call and dispatches it; returns the matter's number."""
    page.goto(BASE + "/hotline")
    page.get_by_label("来电号码").fill(mobile)
    page.get_by_label("姓名").fill("赵敏")
    page.locator("label.pill", has_text=category).click()
    page.get_by_label("诉求").fill(text)
    page.get_by_label("所在地").fill("349901001002")
    page.get_by_role("button", name="建单派发").click()
    expect(page.locator(".flash")).to_have_text(re.compile(r"事项编号 FW\d{14}"))
    return re.search(r"FW\d{14}", page.locator(".flash").inner_text()).group(0)


def test_a_repeat_caller_urges_the_open_matter_instead_of_a_new_one(desktop):
    page = desktop
    sign_in(page, "operator")
    mobile = "1350%07d" % random.randrange(10**7)
    number = new_call(page, mobile)
    # The caller rings again: the number and the category bring up the open matter at once, without pressing Enter.
    page.goto(BASE + "/hotline")
    page.get_by_label("来电号码").fill(mobile)
    page.locator("label.pill", has_text="劳动保障").click()
    panel = page.locator("#duplicates")
    expect(panel.get_by_role("link", name=number)).to_be_visible()
    page.get_by_label("诉求").fill("第二次来电，询问何时有人联系")
    shot(page, "journey-urge-desktop")
    panel.get_by_role("button", name="记为催办").click()
    expect(page.locator(".flash")).to_have_text("已记录催办：事项 %s，已提醒承办人员" % number)
    page.goto(BASE + "/work?number=" + number)
    page.get_by_role("link", name=number).click()
    expect(page.locator(".timeline").get_by_text("申请人催办：第二次来电，询问何时有人联系")).to_be_visible()

    # A category taken down wrongly is corrected, the change on the timeline.
    page.get_by_label("类别", exact=True).select_option(label="邻里纠纷")
    page.get_by_label("说明（选填）").fill("实为相邻通行纠纷")
    page.get_by_role("button", name="更正", exact=True).click()
    expect(page.locator(".timeline").get_by_text("类别由“劳动保障”更正为“邻里纠纷”：实为相邻通行纠纷")).to_be_visible()


def test_assigning_separates_people_and_the_practitioner_is_told_and_can_call_back(browser):
    lawyer_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    lawyer = lawyer_ctx.new_page()
    sign_in(lawyer, "lawyer")
    name = lawyer.locator(".user-chip").inner_text().split("\n")[0].replace("律师", "").strip()
    # A practitioner's navigation shows their work only.
    nav = lawyer.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="我承办的事项")).to_be_visible()
    expect(nav.get_by_role("link", name="指标")).to_have_count(0)
    expect(nav.get_by_role("link", name="机构")).to_have_count(0)

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, "operator")
    mobile = "1360%07d" % random.randrange(10**7)
    number = new_call(page, mobile)
    expect(page).to_have_url(re.compile(r"/work/"))
    scores = [float(s.replace(" 分", "")) for s in page.locator(".candidates .badge").all_inner_texts()]
    assert len(scores) > 1 and len(set(scores)) > 1, scores
    shot(page, "journey-candidates-desktop")
    # Anyone eligible, found by name.
    page.get_by_label("查找其他可承办人员").fill(name)
    page.get_by_role("button", name="查找", exact=True).click()
    expect(page.locator(".candidates li").first).to_contain_text(name)
    page.locator(".candidates li").first.locator("input").check()
    page.get_by_role("button", name="分派给所选人员").click()
    expect(page.locator(".flash")).to_have_text("已分派")
    desk.close()

    # The lawyer sees the count beside 提醒, the message, and calls the applicant back with the full number.
    lawyer.goto(BASE + "/work")
    expect(nav.get_by_role("link", name=re.compile(r"提醒（\d+）"))).to_be_visible()
    nav.get_by_role("link", name=re.compile(r"提醒")).click()
    expect(lawyer.get_by_text(re.compile("新分派：事项 " + number))).to_be_visible()
    lawyer.get_by_role("link", name=re.compile("新分派：事项 " + number)).click()
    expect(lawyer.get_by_text(mobile)).to_have_count(0)
    lawyer.get_by_role("button", name="查看完整号码").click()
    expect(lawyer.get_by_role("link", name=mobile)).to_be_visible()
    expect(lawyer.locator(".timeline").get_by_text("查看申请人完整联系电话（用于联系申请人）")).to_be_visible()
    shot(lawyer, "journey-lawyer-callback-phone")
    lawyer_ctx.close()


def test_an_adviser_carries_a_dispute_on_in_the_persons_name_on_a_phone(phone):
    page = phone
    sign_in(page, "adviser")
    page.goto(BASE + "/adviser")
    page.locator("label.pill", has_text="矛盾纠纷").click()
    page.get_by_label("服务情况（选填）").fill("两户因排水沟堵塞发生争执")
    page.get_by_label("咨询或纠纷需要继续办理：同时转为事项").check()
    page.get_by_role("button", name="登记服务").click()
    # Nothing is logged until the person is named: the summary takes the focus and what was typed stays.
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("当事人姓名"))).to_be_visible()
    expect(page.get_by_label("服务情况（选填）")).to_have_value("两户因排水沟堵塞发生争执")
    expect(page.get_by_label("咨询或纠纷需要继续办理：同时转为事项")).to_be_checked()
    shot(page, "journey-adviser-carry-on-errors-phone")
    page.get_by_label("当事人姓名").fill("周桂兰")
    page.get_by_label("当事人手机号码").fill("1370%07d" % random.randrange(10**7))
    page.get_by_label("类别").select_option(label="邻里纠纷")
    page.get_by_role("button", name="登记服务").click()
    expect(page.locator(".flash")).to_have_text(re.compile(r"并转为事项 FW\d{14}"))


def test_each_role_lands_on_its_work_and_enter_looks_the_caller_up(desktop):
    page = desktop
    # The operator starts on the call console; Enter in the number looks the caller up and saves nothing.
    sign_in(page, "operator")
    expect(page).to_have_url(re.compile(r"/hotline$"))
    mobile = "1340%07d" % random.randrange(10**7)
    number = new_call(page, mobile)
    page.goto(BASE + "/hotline")
    page.get_by_label("来电号码").fill(mobile)
    page.get_by_label("来电号码").press("Enter")
    history = page.locator(".history")
    expect(history.get_by_role("heading", name="来电人历史事项")).to_be_visible()
    expect(history.get_by_role("link", name=number)).to_be_visible()
    expect(history.get_by_text(re.compile(r"法律咨询 · 劳动保障 · 已受理 · 承办：未分派"))).to_be_visible()
    expect(page.get_by_label("姓名")).to_have_value("赵敏")
    expect(page.locator(".flash")).to_have_count(0)
    page.get_by_role("button", name="退出").click()
    for user, landing in [("adviser", r"/adviser$"), ("lawyer", r"/work$"), ("aid", r"/legal-aid/desk$"), ("clerk", r"/window$"),
                          ("leader", r"/admin$")]:
        sign_in(page, user)
        expect(page).to_have_url(re.compile(landing))
        page.get_by_role("button", name="退出").click()
    # A rate with nothing to count says so, never "0/0 达标".
    sign_in(page, "leader")
    page.goto(BASE + "/admin/indicators")
    card = page.locator("article.indicator", has_text="法律援助异议按时审查率")
    expect(card.locator(".badge").first).to_have_text("暂无数据")
