import re
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def test_a_dispute_from_a_listening_point_to_fulfilment(browser):
    # The town mediator takes in a dispute raised at a village listening point, on a phone.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    sign_in(page, "mediator")
    page.goto(BASE + "/mediation/new")
    page.get_by_label("案件来源").select_option("listening_point")
    page.get_by_label("百姓说事点").select_option(index=1)
    page.get_by_label("纠纷类别").select_option("property")
    page.get_by_label("纠纷情况").fill("邻居装修在楼道堆放建材，堵塞通道，双方多次争吵。")
    page.locator("#applicantName").fill("张桂芳")
    page.get_by_label("申请方手机").fill("13900000031")
    page.get_by_role("button", name="登记并受理").click()
    # The other party is missing: named, and the story typed is kept.
    expect(page.locator(".field-error").get_by_text("请填写当事人姓名或名称").first).to_be_visible()
    expect(page.get_by_label("纠纷情况")).to_have_value(re.compile("堆放建材"))
    page.get_by_label("被申请方当事人（个人或单位）").fill("李建国")
    shot(page, "mediation-new-phone")
    page.get_by_role("button", name="登记并受理").click()
    expect(page.locator(".flash")).to_have_text(re.compile(r"已登记纠纷 FW\d{14}"))
    expect(page.get_by_text("百姓说事点").first).to_be_visible()

    # Consent, then a session.
    page.get_by_role("button", name="确认").click()
    expect(page.locator(".flash")).to_have_text("已征询调解意愿")
    page.get_by_role("button", name="开始办理").click()
    page.get_by_label("参加人员").fill("张桂芳、李建国、村调委会主任")
    page.get_by_label("调解记录").fill("双方陈述意见。李建国同意三日内清走建材，并赔偿张桂芳被损坏的鞋柜。")
    page.get_by_role("button", name="保存调解记录").click()
    expect(page.locator(".flash")).to_have_text("已记录调解")
    shot(page, "mediation-session-phone")
    phone.close()

    # On a desktop: the written agreement, printed.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, "mediator")
    page.goto(BASE + "/work")
    page.locator("table a").first.click()
    page.get_by_label("纠纷主要事实、争议事项（书面协议）").fill("李建国装修期间在楼道堆放建材，堵塞公共通道，并损坏张桂芳鞋柜。")
    page.get_by_label("协议内容").fill("一、李建国于三日内清走楼道建材；二、李建国赔偿张桂芳鞋柜损失 300 元。")
    page.get_by_label("履行事项 1").fill("清走建材并赔偿 300 元")
    page.get_by_label("履行期限 1").fill("2030-01-01")
    page.get_by_label("各方当事人已确认协议（书面协议已签名）").check()
    shot(page, "mediation-outcome-desktop")
    page.get_by_role("button", name="保存调解结果").click()
    expect(page.locator(".flash")).to_have_text("已调解结果")
    expect(page.locator(".status-pill")).to_have_text("已办结")
    page.get_by_role("link", name="打印人民调解协议书").click()
    expect(page.get_by_role("heading", name="人民调解协议书")).to_be_visible()
    expect(page.get_by_text("赔偿张桂芳鞋柜损失 300 元")).to_be_visible()
    shot(page, "mediation-agreement-a4")
    page.get_by_role("link", name="返回").click()

    # The follow-up visit records fulfilment.
    page.get_by_label("履行情况").select_option("fulfilled")
    page.get_by_label("回访情况").fill("建材已清走，赔偿款已支付")
    page.get_by_role("button", name="保存回访").click()
    expect(page.locator(".flash")).to_have_text("已回访履行情况")
    expect(page.locator(".aid-panel .badge", has_text="已履行")).to_be_visible()
    shot(page, "mediation-fulfilled-desktop")
    desk.close()


def test_the_mediation_network_page(desktop):
    sign_in(desktop, "county-admin")
    desktop.get_by_role("navigation", name="主导航").get_by_role("link", name="人民调解").click()
    expect(desktop.get_by_role("heading", name="人民调解", exact=True)).to_be_visible()
    expect(desktop.get_by_role("heading", name="人民调解成功率")).to_be_visible()
    expect(desktop.get_by_role("heading", name=re.compile("调委会组成需整改"))).to_be_visible()
    shot(desktop, "mediation-network-desktop")
