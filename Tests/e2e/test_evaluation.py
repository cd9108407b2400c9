"""Issue #22: the county decides an appeal against a rating; a citizen complains on a phone and follows it; anyone
looks up a practitioner's published credit record."""
import json
import re
import urllib.request
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def api(path, token=None, body=None):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                 method="POST" if body is not None else "GET", headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def demo_lawyer():
    admin = api("/api/v1/auth/login", body={"username": "admin", "password": "demo12348"})["token"]
    me = api("/api/v1/auth/login", body={"username": "lawyer", "password": "demo12348"})["token"]
    practitioner = api("/api/v1/me", me)["practitioner"]
    return api("/api/v1/practitioners/" + practitioner["id"], admin)


def test_the_county_decides_an_appeal_and_a_missing_reason_is_shown_where_it_is_typed(desktop):
    page = desktop
    page.on("dialog", lambda d: d.accept())
    sign_in(page, "county-admin")
    page.get_by_role("link", name="差评整改").first.click()
    page.get_by_label("状态").select_option("appealed")
    page.get_by_role("button", name="查询").click()
    page.locator("table a").first.click()
    expect(page.get_by_role("heading", name="申诉复核")).to_be_visible()
    shot(page, "rectification-appeal-desktop")
    page.get_by_role("button", name="提交复核").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("复核意见"))).to_be_visible()
    page.get_by_label("申诉成立，该评价不计入满意度").check()
    page.get_by_label("复核意见").fill("经核实为当事人误选")
    page.get_by_role("button", name="提交复核").click()
    expect(page.get_by_text("申诉成立，评价不计").first).to_be_visible()
    expect(page.get_by_text("经核实为当事人误选")).to_be_visible()


def test_a_citizen_complains_on_a_phone_and_anyone_looks_up_the_credit_record(phone):
    page = phone
    lawyer = demo_lawyer()
    # The public lookup, by licence number: the published commendation, not the staff-only review.
    page.goto(BASE + "/credit")
    page.get_by_label("机构名称、人员姓名或执业证号").fill(lawyer["licenceNumber"])
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("年度优秀法律援助律师")).to_be_visible()
    expect(page.get_by_text("案卷评查")).to_have_count(0)
    shot(page, "credit-lookup-phone")

    page.goto(BASE + "/login/citizen")
    page.get_by_label("手机号").fill("13800000000")
    page.get_by_text("使用密码登录").click()
    page.get_by_label("密码").fill("demo12348")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("link", name="我要投诉").click()
    page.get_by_label("投诉事实和请求").fill("约定的会见没有来，电话也不接")
    page.get_by_role("button", name="提交投诉").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("投诉事实和请求")).to_have_value("约定的会见没有来，电话也不接")
    page.get_by_label("被投诉的机构或人员").fill(lawyer["licenceNumber"])
    page.get_by_role("button", name="提交投诉").click()
    expect(page.get_by_text("投诉已登记")).to_be_visible()
    expect(page.get_by_text("待受理")).to_be_visible()
    expect(page.get_by_text(lawyer["name"]).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "complaint-registered-phone")
    # Listed with their matters, to come back to.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的事项").click()
    expect(page.get_by_role("heading", name="我的投诉")).to_be_visible()


def test_the_reviewer_scores_a_sampled_case_on_a_tablet(browser):
    ctx = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    sign_in(page, "county-admin")
    page.get_by_role("link", name="案卷评查").first.click()
    page.locator("tr", has_text="待评查").first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="评查清单")).to_be_visible()
    inputs = page.locator("form.review-checklist input[type=number]")
    count = inputs.count()
    assert count >= 2
    # One score left out: refused, the others kept.
    for i in range(count - 1):
        inputs.nth(i).fill("20")
    page.get_by_role("button", name="保存评查结果").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(inputs.nth(0)).to_have_value("20")
    inputs.nth(count - 1).fill("1")
    page.get_by_label("评查意见").fill("结案报告未写明法律依据")
    # Below 良好 the reviewer must say what to put right; what was typed stays.
    page.get_by_role("button", name="保存评查结果").click()
    expect(page.locator(".error-summary")).to_contain_text("请写明整改要求")
    expect(page.get_by_label("评查意见")).to_have_value("结案报告未写明法律依据")
    page.get_by_label("整改要求").fill("补正结案报告的法律依据")
    page.get_by_role("button", name="保存评查结果").click()
    expect(page.get_by_text("已保存评查结果")).to_be_visible()
    expect(page.get_by_text("整改中").first).to_be_visible()
    expect(page.get_by_role("heading", name="整改")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    shot(page, "quality-review-tablet")
    ctx.close()


def test_the_centre_replaces_a_designee_after_an_upheld_complaint(desktop):
    """Art. 56: the demo recipient's complaint was upheld; the centre's clerk designates someone else with a reason."""
    page = desktop
    sign_in(page, "aid")
    page.get_by_role("link", name="事项", exact=True).first.click()
    page.locator("tr", has_text="孙桂兰").first.get_by_role("link").first.click()
    expect(page.get_by_text(re.compile("投诉成立，应于 .* 前更换"))).to_be_visible()
    expect(page.get_by_role("heading", name="更换承办人员（法律援助法第五十六条）")).to_be_visible()
    previous = page.locator("dt", has_text="承办人员").locator("xpath=following-sibling::dd").first.inner_text()
    page.get_by_label(re.compile("更换理由")).fill("受援人投诉成立，原承办律师未依法履行职责")
    page.get_by_role("button", name="更换", exact=True).click()
    expect(page.get_by_text("已更换承办人员").first).to_be_visible()
    expect(page.get_by_text(re.compile(previous + " → "))).to_be_visible()
    expect(page.get_by_text("投诉作出处理决定")).to_be_visible()
    expect(page.get_by_text(re.compile("投诉成立，应于"))).to_have_count(0)
    shot(page, "legal-aid-replacement-desktop")
