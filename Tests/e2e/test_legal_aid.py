import json
import re
import urllib.request
from playwright.sync_api import expect
from conftest import BASE, precheck, shot, sign_in


def api(path, token=None, body=None):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + token} if token else {})})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def lawyer_licence():
    token = api("/api/v1/auth/login", body={"username": "lawyer", "password": "demo12348"})["token"]
    me = api("/api/v1/me", token)
    return api("/api/v1/practitioners/" + me["practitioner"]["id"], token)["licenceNumber"]


def test_a_citizen_gets_legal_aid_from_precheck_to_closing(browser):
    # The citizen, on a phone: the guided pre-check, then the application.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(BASE + "/login/citizen")
    page.get_by_label("手机号").fill("13800000000")
    page.get_by_text("使用密码登录").click()
    page.get_by_label("密码").fill("demo12348")
    page.get_by_role("button", name="登录", exact=True).click()
    precheck(page, 3, 3600)
    expect(page.get_by_text("初步符合法律援助条件")).to_be_visible()
    expect(page.get_by_text("法律援助法第三十四条")).to_be_visible()
    shot(page, "legal-aid-check-phone")
    page.get_by_role("link", name="在线申请法律援助").click()
    expect(page.get_by_label("家庭人口（人）")).to_have_value("3")
    page.get_by_label("所在村（社区）或镇（街道）").fill("349901001001")
    page.get_by_label("案情简述").fill("在建筑工地打工八个月，包工头拖欠工资四万元，多次讨要未果。")
    page.get_by_label("申请人姓名").fill("王秀英")
    page.get_by_role("button", name="提交申请").click()
    # The statement of means is required: named, and nothing typed is lost.
    expect(page.locator(".field-error").get_by_text("个人诚信承诺")).to_be_visible()
    expect(page.get_by_label("案情简述")).to_have_value(re.compile("拖欠工资"))
    page.get_by_label("本人承诺如实说明家庭经济状况，如有虚假愿承担相应责任").check()
    shot(page, "legal-aid-apply-phone")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text(re.compile(r"法律援助申请已提交，编号 FW\d{14}"))).to_be_visible()
    number = re.search(r"FW\d{14}", page.locator(".flash").inner_text()).group(0)
    expect(page.get_by_text("审查决定期限")).to_be_visible()
    phone.close()

    # The centre asks for a missing document, then decides and designates.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, "aid")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="法律援助").click()
    expect(page.get_by_role("heading", name=re.compile("待审查决定"))).to_be_visible()
    shot(page, "legal-aid-desk-desktop")
    page.get_by_role("link", name=number).click()
    page.get_by_label("需补充的材料（每行一项）").fill("劳动关系证明（工牌、考勤或工友证言）\n欠条或工资结算单")
    page.get_by_role("button", name="发出补充材料通知").click()
    expect(page.locator(".flash")).to_have_text("已一次性告知补充材料")
    expect(page.get_by_text("暂停计时")).to_be_visible()
    page.get_by_role("link", name="补充材料通知书").click()
    expect(page.get_by_role("heading", name="补充材料通知书")).to_be_visible()
    expect(page.get_by_text("欠条或工资结算单")).to_be_visible()
    shot(page, "legal-aid-notice-a4")
    page.get_by_role("link", name="返回").click()
    page.get_by_role("button", name="材料已补齐").click()
    expect(page.locator(".flash")).to_have_text("已收到补充材料")
    # Nothing is pre-selected; the decision is confirmed before it is made (it cannot be taken back).
    expect(page.get_by_label("给予法律援助")).not_to_be_checked()
    expect(page.get_by_label("不予法律援助")).not_to_be_checked()
    page.get_by_label("给予法律援助").check()
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.get_by_role("button", name="作出决定").click()
    expect(page.locator(".flash")).to_have_text("已审查决定")
    assert asked and "不能撤回" in asked[0], asked
    expect(page.get_by_role("link", name="给予法律援助决定书")).to_be_visible()
    page.get_by_label("或按执业证号指派").fill(lawyer_licence())
    shot(page, "legal-aid-case-desktop")
    page.get_by_role("button", name="指派", exact=True).click()
    expect(page.locator(".flash")).to_have_text("已指派")
    expect(page.locator(".status-pill")).to_have_text("已指派承办人员")
    page.get_by_role("button", name="退出").click()

    # The lawyer starts and closes with the stage reached; the subsidy is computed.
    sign_in(page, "lawyer")
    page.goto(BASE + "/work")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="开始办理").click()
    page.get_by_label("办理阶段").select_option("arbitration")
    page.get_by_label("结案报告").fill("经劳动仲裁调解，包工头当庭支付全部欠薪四万元。")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交结案").click()
    expect(page.locator(".flash")).to_have_text("已结案")
    expect(page.locator(".status-pill")).to_have_text("已办结")
    expect(page.get_by_text("1500 元")).to_be_visible()
    shot(page, "legal-aid-closed-desktop")
    desk.close()


def test_statistics_duty_and_settings_pages(desktop):
    sign_in(desktop, "county-admin")
    desktop.goto(BASE + "/legal-aid/statistics")
    expect(desktop.get_by_role("heading", name=re.compile("法律援助统计"))).to_be_visible()
    expect(desktop.get_by_text("值班律师法律帮助覆盖率")).to_be_visible()
    expect(desktop.locator("svg.chart rect.chart-bar")).to_have_count(12)
    shot(desktop, "legal-aid-stats-desktop")
    desktop.goto(BASE + "/legal-aid/duty")
    expect(desktop.get_by_role("heading", name="本周值班")).to_be_visible()
    shot(desktop, "legal-aid-duty-desktop")
    desktop.goto(BASE + "/admin/legal-aid")
    row = desktop.locator("tr", has_text="城关区").first
    row.get_by_label("倍数").fill("1.5")
    row.get_by_role("button", name="保存").click()
    expect(desktop.get_by_text("倍数不得低于 2")).to_be_visible()
    shot(desktop, "legal-aid-settings-desktop")
