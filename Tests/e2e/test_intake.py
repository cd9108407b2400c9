import random
import re
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def sign_in_citizen(page):
    page.goto(BASE + "/login/citizen")
    page.get_by_label("手机号").fill("13800000000")
    page.get_by_text("使用密码登录").click()
    page.get_by_label("密码").fill("demo12348")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("登录成功")).to_be_visible()


def sign_out(page):
    page.get_by_role("button", name="退出").click()


def test_one_matter_from_every_desk(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()

    # A citizen reads the guide and applies online.
    sign_in_citizen(page)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="办事指南").click()
    shot(page, "catalog-desktop")
    page.get_by_role("link", name="法律咨询").first.click()
    expect(page.get_by_text("办理条件")).to_be_visible()
    page.get_by_role("link", name="在线申请").click()
    page.get_by_label("纠纷（事项）类别").select_option("labor")
    page.get_by_label("请说明您的情况和诉求").fill("在工地干了三个月，老板一直拖欠工资，想知道怎么讨回来。")
    page.get_by_label("申请人姓名").fill("王秀英")
    page.get_by_role("button", name="提交申请").click()
    # Nothing lost on an error: the missing place is named and the text stays.
    expect(page.locator(".field-error").get_by_text("请选择事项所在的村（社区）或镇（街道）")).to_be_visible()
    expect(page.get_by_label("请说明您的情况和诉求")).to_have_value(re.compile("拖欠工资"))
    page.get_by_label("事项所在地").fill("349901001001")
    page.get_by_label("农民工").check()
    shot(page, "apply-desktop")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text(re.compile(r"已提交，事项编号 FW\d{14}"))).to_be_visible()
    number = re.search(r"FW\d{14}", page.locator(".flash").inner_text()).group(0)
    expect(page.locator(".status-pill")).to_have_text("待受理")
    sign_out(page)

    # The hotline operator takes a call and answers it on the spot.
    sign_in(page, "operator")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="12348 热线").click()
    caller = "139" + "".join(random.choice("0123456789") for _ in range(8))
    page.get_by_label("来电号码").fill(caller)
    page.get_by_label("姓名").fill("李建国")
    page.locator("label.pill", has_text="婚姻家庭").click()
    page.get_by_label("诉求").fill("离婚后孩子抚养费对方不给，怎么办")
    page.get_by_label("所在地").fill("349901001002")
    page.get_by_label("当场解答内容（仅法律咨询）").fill("可先协商；协商不成可向法院起诉要求支付抚养费，也可申请法律援助。")
    shot(page, "hotline-desktop")
    page.get_by_role("button", name="当场解答并办结").click()
    expect(page.get_by_text(re.compile(r"已当场解答并办结，事项编号 FW"))).to_be_visible()
    sign_out(page)

    # The window clerk accepts the citizen's request and assigns it to the lawyer.
    sign_in(page, "clerk")
    page.goto(BASE + "/work?number=" + number)
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.locator(".flash")).to_have_text("已受理")
    cands = page.locator(".candidates li")
    expect(cands.first).to_be_visible()
    shot(page, "work-detail-desktop")
    # Choose the demo lawyer if ranked, else the first candidate.
    page.locator(".candidates input").first.check()
    page.get_by_role("button", name="分派给所选人员").click()
    expect(page.locator(".flash")).to_have_text("已分派")
    assigned = page.locator("dt:has-text('承办人员') + dd").inner_text()
    sign_out(page)

    # The assigned practitioner starts and concludes (signing in as whoever was chosen is not possible for
    # every candidate, so the city administrator acts for them when it was not the demo lawyer).
    lawyer_name = None
    sign_in(page, "lawyer")
    lawyer_name = page.locator(".user-chip").inner_text().split("\n")[0].strip()
    if lawyer_name not in assigned:
        sign_out(page)
        sign_in(page, "admin")
    page.goto(BASE + "/work?number=" + number)
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="开始办理").click()
    page.get_by_label("办理情况").fill("已指导申请人向劳动监察大队投诉，并代写劳动仲裁申请书")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="办结", exact=True).click()
    expect(page.locator(".status-pill")).to_contain_text("已办结")
    sign_out(page)

    # The citizen rates it, once.
    sign_in_citizen(page)
    page.goto(BASE + "/my/" + number)
    expect(page.get_by_text("请对本次服务评价")).to_be_visible()
    page.get_by_label("非常满意").check()
    page.get_by_label("意见建议（选填）").fill("律师很耐心")
    shot(page, "rate-desktop")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价")).to_be_visible()
    expect(page.get_by_text("请对本次服务评价")).to_have_count(0)
    expect(page.locator(".timeline li")).to_have_count(6)

    # Anyone can follow it with the number and the mobile.
    sign_out(page)
    page.goto(BASE + "/lookup")
    page.get_by_label("事项编号").fill(number)
    page.get_by_label("手机号码").fill("13800000000")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".status-pill")).to_have_text("已办结")
    ctx.close()


def test_citizen_portal_on_a_phone(phone):
    page = phone
    sign_in_citizen(page)
    page.goto(BASE + "/services")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    shot(page, "catalog-phone")
    page.goto(BASE + "/my")
    shot(page, "my-phone")
