"""Issue #23: the exchange reports a call answered by an operator; that operator's console opens on the caller at once
(pushed, no reload), another operator's does not; the wallboard counts it."""
import json
import re
import time
import urllib.parse
import urllib.request
from playwright.sync_api import expect
from conftest import BASE, shot, sign_in


def api(path, token=None, body=None, form=None):
    data = json.dumps(body).encode() if body is not None else (urllib.parse.urlencode(form).encode() if form else None)
    req = urllib.request.Request(BASE + path, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json" if form is None else "application/x-www-form-urlencoded"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r) if r.status != 204 else None


def exchange_and_second_operator():
    admin = api("/api/v1/auth/login", body={"username": "admin", "password": "demo12348"})["token"]
    c = api("/api/v1/system-clients", admin, {"name": "12348 交换机（浏览器测试）", "scopes": ["telephony"]})
    token = api("/api/v1/oauth/token", form={"grant_type": "client_credentials", "client_id": c["clientId"], "client_secret": c["clientSecret"]})
    me = api("/api/v1/me", admin)
    try:
        api("/api/v1/accounts", admin, {"username": "operator-e2e", "displayName": "坐席（测试）", "role": "hotline_operator",
                                         "regionCode": me["region"]["id"], "password": "Operator-e2e-2026"})
    except urllib.error.HTTPError:
        pass  # made by an earlier run against the same server
    return token["access_token"]


def test_the_answering_operator_sees_the_caller_at_once_and_no_one_else_does(browser):
    exchange = exchange_and_second_operator()
    mine = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    theirs = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(mine, "operator")
    sign_in(theirs, "operator-e2e", "Operator-e2e-2026")
    mine.goto(BASE + "/hotline")
    theirs.goto(BASE + "/hotline")
    call = "E2E-%d" % int(time.time() * 1000)
    api("/api/v1/telephony/events", exchange, {"callId": call, "event": "ring", "caller": "13955578888", "operator": "operator"})
    api("/api/v1/telephony/events", exchange, {"callId": call, "event": "answer", "operator": "operator"})
    # Pushed: the console opens on the call with the number filled in, no reload by the operator.
    expect(mine).to_have_url(re.compile(r"/hotline\?call="), timeout=10000)
    expect(mine.get_by_label("来电号码")).to_have_value("13955578888")
    expect(mine.get_by_text(re.compile("当前来电：139\\*\\*\\*\\*8888"))).to_be_visible()
    shot(mine, "hotline-screen-pop-desktop")
    # The other operator's console stays as it was.
    theirs.wait_for_timeout(2500)
    assert "call=" not in theirs.url
    expect(theirs.get_by_label("来电号码")).to_have_value("")
    # The supervisor's wallboard counts the answered call.
    board = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    sign_in(board, "admin")
    board.goto(BASE + "/hotline/wallboard")
    expect(board.get_by_role("heading", name="12348 话务大屏")).to_be_visible()
    assert int(board.locator("[data-field=answered]").inner_text()) >= 1
    shot(board, "hotline-wallboard-1920")
