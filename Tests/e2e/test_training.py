import json
import re
import urllib.request
import openpyxl
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def api(path, token=None, body=None):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + token} if token else {})})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def lawyer_licences(n):
    token = api("/api/v1/auth/login", body={"username": "county-admin", "password": "demo12348"})["token"]
    return [p["licenceNumber"] for p in api("/api/v1/practitioners?type=lawyer&per=%d" % n, token)["items"]]


def test_a_county_registers_a_training_and_enters_the_sign_in_sheet(desktop):
    sign_in(desktop, "county-admin")
    desktop.goto(BASE + "/trainings")
    expect(desktop.get_by_role("heading", name="培训考核")).to_be_visible()
    desktop.get_by_label("培训名称").fill("民法典合同编专题培训")
    desktop.get_by_label("学时").fill("3")
    desktop.get_by_label("培训对象").fill("律师")
    desktop.get_by_role("button", name="登记培训").click()
    expect(desktop.locator(".flash")).to_contain_text("已登记培训")
    expect(desktop.get_by_role("heading", name="民法典合同编专题培训")).to_be_visible()

    # A sign-in sheet with an unknown licence saves nothing and names the line.
    first, second = lawyer_licences(2)
    desktop.get_by_label("签到表").fill(f"{first} 92\n99999999999999999 80\n{second} 缺席")
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.locator(".alert")).to_contain_text("第 2 行：执业证号或账号“99999999999999999”不存在")
    expect(desktop.get_by_label("签到表")).to_have_value(re.compile(first))
    # A hotline operator sits the same assessment, signing in with their username.
    desktop.get_by_label("签到表").fill(f"{first} 92\n{second} 缺席\noperator 75")
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.locator(".flash")).to_contain_text("已保存 3 人")
    expect(desktop.locator("table")).to_contain_text("92")
    expect(desktop.locator("table")).to_contain_text("缺席")
    expect(desktop.locator(".stats")).to_contain_text("考核合格")
    shot(desktop, "training-session-desktop")


def test_a_government_advisers_work_is_recorded_from_the_roster(phone):
    sign_in(phone, "admin")
    phone.goto(BASE + "/rosters?kind=government_adviser")
    phone.locator("table a").first.click()
    expect(phone.get_by_role("heading", name=re.compile("工作记录"))).to_be_visible()
    phone.get_by_label("工作类型").select_option(label="规范性文件合法性审核")
    phone.get_by_label("事项").fill("《城区停车管理办法》合法性审核")
    phone.get_by_role("button", name="保存记录").click()
    expect(phone.locator(".flash")).to_have_text("已记录")
    expect(phone.locator("table")).to_contain_text("《城区停车管理办法》合法性审核")
    shot(phone, "government-adviser-work-phone")


def test_a_roster_goes_out_to_excel_and_comes_back_in(desktop, tmp_path):
    sign_in(desktop, "county-admin")
    desktop.goto(BASE + "/rosters?kind=legal_understander")
    with desktop.expect_download() as download:
        desktop.get_by_role("link", name="导出（Excel）").click()
    path = tmp_path / "legal_understander.xlsx"
    download.value.save_as(path)
    # openpyxl, which reads what Excel writes, opens our workbook.
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("place", "name", "detail", "partner", "start_on")
    assert len(rows) > 1
    before = desktop.locator("p.muted", has_text="共").first.inner_text()

    # The same file, two rows edited in Excel, imports as it is.
    book = openpyxl.load_workbook(path)
    ws = book.active
    ws.delete_rows(4, ws.max_row)
    ws["B2"] = "新任明白人甲"
    ws["B3"] = "新任明白人乙"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    desktop.get_by_label("选择文件").set_input_files(str(edited))
    desktop.get_by_role("button", name="导入").click()
    expect(desktop.locator(".flash")).to_have_text("已导入 2 条")
    after = desktop.locator("p.muted", has_text="共").first.inner_text()
    assert int(re.search(r"\d+", after).group()) == int(re.search(r"\d+", before).group()) + 2
    shot(desktop, "rosters-imported-desktop")
