import json
import re
import urllib.request
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def village_hours(code):
    """The county's figure for one village, as its administrator's dashboard computes it."""
    def call(path, token=None, body=None):
        req = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + token} if token else {})})
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    token = call("/api/v1/auth/login", body={"username": "county-admin", "password": "demo12348"})["token"]
    return call("/api/v1/village-advisers/villages?region=" + code, token)["items"][0]["hours"]


def test_the_adviser_logs_on_a_phone_and_the_county_sees_the_hours_move(browser, tmp_path):
    # The adviser, on a phone, logs a visit to their first village.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    sign_in(page, "adviser")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="驻村服务").click()
    code = page.get_by_label("服务村（社区）").input_value()
    before = village_hours(code)

    page.get_by_label("时长").select_option("3")
    page.locator("label.pill", has_text="法治宣传").click()
    expect(page.locator("label.pill", has_text="法治宣传").locator("input")).to_be_checked()
    page.get_by_label("件数").fill("2")
    page.get_by_label("服务人数").fill("45")
    page.get_by_label("服务情况（选填）").fill("在村委会开展民法典宣讲")
    photo = tmp_path / "visit.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    page.get_by_label("现场照片（选填，最多 3 张）").set_input_files(str(photo))
    shot(page, "adviser-log-phone")
    page.get_by_role("button", name="登记服务").click()
    expect(page.locator(".flash")).to_have_text(re.compile(r"已登记 .+ 3 小时服务"))
    # The photo went with the entry, and opens.
    link = page.locator("a.photo-link").first
    expect(link).to_be_visible()
    assert page.request.get(BASE + link.get_attribute("href")).body() == photo.read_bytes()
    shot(page, "adviser-logged-phone")
    phone.close()

    # The county administrator sees the village's hours move.
    assert abs(village_hours(code) - (before + 3)) < 0.05
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    county = desk.new_page()
    sign_in(county, "county-admin")
    county.goto(BASE + "/grassroots")
    expect(county.get_by_role("heading", name="村（居）法律顾问")).to_be_visible()
    shot(county, "grassroots-villages-desktop")
    desk.close()
