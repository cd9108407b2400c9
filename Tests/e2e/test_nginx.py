"""Issue #21: the platform behind nginx with TLS on loopback, as deploy/ sets it up: the session cookie is Secure,
responses carry HSTS, the forwarded client address is the one recorded, and a visitor through the proxy is never
taken for the machine itself."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

from playwright.sync_api import expect

BIN = os.environ.get("PLS_BIN", ".build/debug/pls")

NGINX = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
  uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  server {{
    listen 127.0.0.1:{tls} ssl;
    ssl_certificate {work}/cert.pem;
    ssl_certificate_key {work}/key.pem;
    location = /metrics {{ deny all; }}
    location / {{
      proxy_pass http://127.0.0.1:{app};
      proxy_set_header Host $host;
      # The visitor's address as a public-facing proxy would pass it (a documentation address stands for one).
      proxy_set_header X-Forwarded-For 198.51.100.7;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_behind_nginx_with_tls(browser):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(nginx), "nginx is installed by scripts/test"
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-keyout", os.path.join(work, "key.pem"), "-out", os.path.join(work, "cert.pem")],
                       check=True, capture_output=True)
        app_port, tls_port = free_port(), free_port()
        base = "https://127.0.0.1:%d" % tls_port
        env = dict(os.environ, PLS_DATA_DIR=os.path.join(work, "data"), LOG_LEVEL="error", PLS_DEMO_HISTORY="0", PLS_DEMO="1",
                   PLS_PUBLIC_URL=base, PLS_TRUSTED_PROXIES="127.0.0.1", PLS_RATE_LIMIT_SCALE="100")
        env.pop("DATABASE_URL", None)
        server = subprocess.Popen([os.path.abspath(BIN), "serve", "--hostname", "127.0.0.1", "--port", str(app_port)], env=env, cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX.format(work=work, tls=tls_port, app=app_port))
        proxy = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1, context=insecure)
                    break
                except Exception:
                    time.sleep(0.5)
            ctx = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = ctx.new_page()
            response = page.goto(base + "/login")
            assert "max-age" in (response.headers.get("strict-transport-security") or ""), response.headers
            page.get_by_label("用户名").fill("admin")
            page.get_by_label("密码").fill("demo12348")
            page.get_by_role("button", name="登录").click()
            expect(page).to_have_url(base + "/admin")
            session = next(c for c in ctx.cookies() if c["name"] == "pls-session")
            assert session["secure"] and session["httpOnly"], session
            # Through the proxy a visitor is never the machine's own caller: the demo outbox and /metrics stay closed.
            assert page.goto(base + "/demo/outbox").status == 404
            # The forwarded address is the one the audit log records for an administrative act.
            page.goto(base + "/admin/indicators")
            card = page.locator("article.indicator").first
            card.locator("input[name=target]").fill("90")
            card.get_by_role("button", name="修改目标").click()
            page.goto(base + "/admin/audit")
            expect(page.locator("table").get_by_text("198.51.100.7").first).to_be_visible()
            ctx.close()
        finally:
            proxy.terminate()
            server.terminate()
            proxy.wait(timeout=10)
            server.wait(timeout=30)
