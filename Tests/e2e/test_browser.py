import random
import re
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def test_admin_browses_registries_switches_elder_mode_and_signs_out(desktop):
    page = desktop
    page.goto(BASE + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("示范市公共法律服务")
    shot(page, "home-desktop")

    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.get_by_text("镇（街道）公共法律服务工作站覆盖率")).to_be_visible()
    shot(page, "dashboard-desktop")

    # Regions: the city's counties, then one county's towns.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="行政区划").click()
    expect(page.get_by_role("heading", name="示范市的下级区划")).to_be_visible()
    page.get_by_role("link", name="西山县").click()
    expect(page.get_by_role("heading", name="西山县", exact=True)).to_be_visible()
    expect(page.get_by_text("下级区划（17）")).to_be_visible()
    shot(page, "region-desktop")

    # Institutions: filter to notary offices and open one.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="机构").click()
    page.get_by_label("类型").select_option("notary_office")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("共 6 条")).to_be_visible()
    page.get_by_role("link", name="示范市公证处").click()
    expect(page.get_by_role("heading", name="示范市公证处")).to_be_visible()
    expect(page.get_by_text(re.compile(r"人员（\d+）"))).to_be_visible()
    shot(page, "institution-desktop")

    # Elder-friendly mode: larger type, and it stays on across pages.
    size_before = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_role("button", name="长者模式").click()
    expect(page.locator("body")).to_have_class(re.compile("elder"))
    size_after = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size_after > size_before
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="指标").click()
    expect(page.locator("body")).to_have_class(re.compile("elder"))
    shot(page, "indicators-elder-desktop")
    page.get_by_role("button", name="标准模式").click()
    expect(page.locator("body")).not_to_have_class(re.compile("elder"))

    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("link", name="工作人员登录")).to_be_visible()
    page.goto(BASE + "/admin")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_indicator_dashboard_lists_units_that_fall_short(desktop):
    page = desktop
    sign_in(page, "leader")
    page.goto(BASE + "/admin/indicators")
    card = page.locator("article.indicator", has_text="人民调解委员会覆盖率")
    expect(card.get_by_text("未达标", exact=True)).to_be_visible()
    card.get_by_text(re.compile(r"未达标单位 \d+ 个")).click()
    first = card.locator(".shortfalls li a").first
    name = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    # A leader reads; there is nothing to edit.
    expect(page.get_by_role("link", name="修改")).to_have_count(0)


def test_form_errors_are_shown_beside_fields_and_input_is_kept(desktop):
    page = desktop
    sign_in(page, "county-admin")
    page.goto(BASE + "/admin/institutions/new")
    page.get_by_label("机构类型").select_option("mediation_committee")
    page.get_by_label("名称").fill("城关区物业纠纷人民调解委员会")
    page.get_by_label("所在区划").fill("349902000000")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("提交的信息有误")
    # The summary takes the focus and links to each field; each field says what is wrong beside it.
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("link", name="地址：请填写地址")).to_be_visible()
    errors = page.locator(".field-error")
    expect(errors.get_by_text("该区划不在您的管辖范围内")).to_be_visible()
    expect(errors.get_by_text("请填写地址")).to_be_visible()
    expect(errors.get_by_text("请选择调委会类别")).to_be_visible()
    expect(page.get_by_label("地址")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("名称")).to_have_value("城关区物业纠纷人民调解委员会")
    shot(page, "form-errors-desktop")

    page.get_by_label("所在区划").fill("349901000000")
    page.get_by_label("地址").fill("城关区人民路 9 号")
    page.get_by_label("电话").fill("0550-6660000")
    page.get_by_label("调委会类别（仅人民调解委员会）").select_option("industry")
    page.get_by_label("行业领域（仅行业性专业性调委会）").select_option("property_management")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已新增机构")).to_be_visible()
    expect(page.get_by_role("heading", name="城关区物业纠纷人民调解委员会")).to_be_visible()


def test_citizen_signs_in_on_a_phone_with_an_sms_code(phone, browser):
    page = phone
    mobile = "136" + "".join(random.choice("0123456789") for _ in range(8))
    masked = mobile[:3] + "****" + mobile[-4:]
    page.goto(BASE + "/")
    shot(page, "home-phone")
    page.get_by_role("link", name="群众登录").click()
    page.get_by_label("手机号").fill(mobile)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送至 " + masked)
    shot(page, "citizen-login-phone")

    outbox = browser.new_page()
    outbox.goto(BASE + "/demo/outbox")
    text = outbox.locator("tbody tr").first.inner_text()
    outbox.close()
    assert masked in text and mobile not in text
    code = re.search(r"验证码为 (\d{6})", text).group(1)

    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("登录成功")).to_be_visible()
    expect(page.get_by_text("用户" + mobile[-4:])).to_be_visible()


def test_admin_pages_fit_a_phone(phone):
    page = phone
    sign_in(page, "county-admin")
    for path in ["/admin", "/admin/institutions", "/admin/practitioners", "/admin/indicators"]:
        page.goto(BASE + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
        shot(page, "phone" + path.replace("/", "-"))
