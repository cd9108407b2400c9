import os
import subprocess
import tempfile

BIN = os.environ.get("PLS_BIN", ".build/debug/pls")


def run(args, data_dir, **env):
    e = dict(os.environ, PLS_DATA_DIR=data_dir, LOG_LEVEL="error", **env)
    e.pop("DATABASE_URL", None)
    return subprocess.run([BIN, *args], env=e, capture_output=True, text=True, timeout=300)


def test_regions_import_is_all_or_nothing_and_names_the_line():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.csv")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("code,name,level,parent_code,population\n")
            f.write("349901001301,甲村,village,349901001000,1200\n")
            f.write("349901001302,乙村,town,349901001000,800\n")
        r = run(["regions", "import", bad], d)
        assert r.returncode != 0
        assert "第 3 行" in (r.stdout + r.stderr)

        good = os.path.join(d, "good.csv")
        with open(good, "w", encoding="utf-8") as f:
            f.write("349901001301,甲村,village,349901001000,1200\n")
            f.write("349901001301001,甲村张庄,natural_village,349901001301,300\n")
        r = run(["regions", "import", good], d)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "已导入 2 个" in r.stdout

        # The first line of the failed file was not kept: importing it now is no duplicate.
        r = run(["regions", "import", good], d)
        assert r.returncode != 0 and "已存在" in (r.stdout + r.stderr)


def test_accounts_create_from_the_command_line():
    with tempfile.TemporaryDirectory() as d:
        r = run(["accounts", "create", "--username", "ops", "--name", "运维", "--role", "city_admin"], d, PLS_PASSWORD="weak")
        assert r.returncode != 0 and "密码至少 8 位" in (r.stdout + r.stderr)
        r = run(["accounts", "create", "--username", "ops", "--name", "运维", "--role", "city_admin"], d, PLS_PASSWORD="strong-pass-1")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "已创建账号 ops" in r.stdout


CITY = [
    "code,name,level,parent_code,population",
    "530100000000,南岭市,city,,3100000",
    "530102000000,五华区,county,530100000000,900000",
    "530102001000,华山街道,town,530102000000,60000",
    "530102001001,翠湖社区,village,530102001000,8000",
    "530124000000,富民县,county,530100000000,150000",
    "530124100000,永定镇,town,530124000000,40000",
    "530124100201,大营村,village,530124100000,2100",
]


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def test_setup_puts_a_real_city_into_service_from_an_empty_data_directory():
    """Issue #21: PLS_DEMO=0 pls setup --regions FILE.csv --admin USERNAME (password from PLS_PASSWORD)."""
    with tempfile.TemporaryDirectory() as d:
        files = os.path.join(d, "files")
        os.makedirs(files)
        data = os.path.join(d, "data")
        # A bad line is named and nothing is imported.
        bad = os.path.join(files, "bad.csv")
        write(bad, CITY[:4] + ["530102001002,翠湖二社区,hamlet,530102001000,100"] + CITY[4:])
        r = run(["setup", "--regions", bad, "--admin", "nl-admin"], data, PLS_DEMO="0", PLS_PASSWORD="strong-pass-1")
        assert r.returncode != 0 and "第 5 行" in (r.stdout + r.stderr), r.stdout + r.stderr
        # The city is the one city-level region: two are refused, and nothing is imported.
        two = os.path.join(files, "two.csv")
        write(two, CITY + ["530200000000,北岭市,city,,1000000"])
        r = run(["setup", "--regions", two], data, PLS_DEMO="0")
        assert r.returncode != 0 and "有且只有一个市级区划" in (r.stdout + r.stderr), r.stdout + r.stderr
        # The good file: regions, the first administrator, the SMS signature, then the checklist.
        good = os.path.join(files, "good.csv")
        write(good, CITY)
        r = run(["setup", "--regions", good, "--admin", "nl-admin", "--sms-signature", "【南岭市公共法律服务】"], data,
                PLS_DEMO="0", PLS_PASSWORD="strong-pass-1")
        out = r.stdout + r.stderr
        assert r.returncode == 0, out
        assert "已导入 7 个行政区划，本平台服务的城市：南岭市（530100000000）" in out
        assert "已创建市级管理员 nl-admin" in out
        assert "✓ 城市：南岭市" in out and "✗ 机构：尚未登记" in out, out
        assert "示范市" not in out
        # Institutions and practitioners from spreadsheets: a bad row is named by its line and nothing is imported.
        inst_bad = os.path.join(files, "inst-bad.csv")
        write(inst_bad, ["type,name,region_code,address,phone,opening_hours",
                         "legal_aid_centre,五华区法律援助中心,530102000000,五华区人民路1号,0871-1234567,周一至周五",
                         "law_firm,云岭律师事务所,539999000000,某路,0871-7654321,"])
        r = run(["setup", "--institutions", inst_bad], data, PLS_DEMO="0")
        assert r.returncode != 0 and "第 3 行" in (r.stdout + r.stderr) and "未导入任何数据" in (r.stdout + r.stderr), r.stdout + r.stderr
        inst = os.path.join(files, "inst.csv")
        write(inst, ["type,name,region_code,address,phone,opening_hours",
                     "legal_aid_centre,五华区法律援助中心,530102000000,五华区人民路1号,0871-1234567,周一至周五",
                     "law_firm,云岭律师事务所,530102000000,五华区翠湖路8号,0871-7654321,"])
        people = os.path.join(files, "people.csv")
        write(people, ["type,name,gender,licence_number,institution,specialities,regions_served",
                       "lawyer,李明,male,15301201010000001,云岭律师事务所,labor;neighbourhood,530102001001"])
        r = run(["setup", "--institutions", inst, "--practitioners", people], data, PLS_DEMO="0")
        out = r.stdout + r.stderr
        assert r.returncode == 0, out
        assert "已导入 2 个机构" in out and "已导入 1 个法律服务人员" in out and "✓ 机构 2 个" in out, out
        # Run again: the regions are there already, the administrator too; both said plainly.
        r = run(["setup", "--regions", good], data, PLS_DEMO="0")
        assert r.returncode != 0 and "行政区划已导入（7 个）" in (r.stdout + r.stderr)
        # The city is data: an account made without --region belongs to it.
        r = run(["accounts", "create", "--username", "nl-county", "--role", "county_admin", "--region", "530124000000"], data,
                PLS_DEMO="0", PLS_PASSWORD="strong-pass-2")
        assert r.returncode == 0, r.stdout + r.stderr


def test_backup_under_write_load_and_restore():
    """Issue #21: pls backup FILE while the server takes writes; pls restore FILE refused while it runs, then put back."""
    import json
    import socket
    import sqlite3
    import threading
    import time
    import urllib.request
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "data")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, PLS_DATA_DIR=data, LOG_LEVEL="error", PLS_DEMO_HISTORY="0", PLS_RATE_LIMIT_SCALE="10000")
        env.pop("DATABASE_URL", None)
        # Started from another directory (as a systemd unit would): it finds its templates and files by itself.
        server = subprocess.Popen([os.path.abspath(BIN), "serve", "--hostname", "127.0.0.1", "--port", str(port)], env=env, cwd=d,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = "http://127.0.0.1:%d" % port
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except Exception:
                    time.sleep(0.5)

            def post(path, body, token=None):
                req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                             headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + token} if token else {})})
                with urllib.request.urlopen(req, timeout=10) as r:
                    return json.loads(r.read())

            with urllib.request.urlopen(base + "/", timeout=10) as home:
                assert "公共法律服务网" in home.read().decode()
            # /metrics answers a caller on this machine in Prometheus's text format.
            with urllib.request.urlopen(base + "/metrics", timeout=10) as m:
                text = m.read().decode()
                assert 'http_requests_total{route="/",method="GET",status="200"} 1' in text, text[:2000]
                assert "sms_outbox_backlog_messages" in text and "requests_overdue_count" in text
            token = post("/api/v1/auth/login", {"username": "operator", "password": "demo12348"})["token"]
            stop = threading.Event()
            written = [0]

            def load():
                i = 0
                while not stop.is_set():
                    i += 1
                    post("/api/v1/requests", {"matterType": "consultation", "category": "labor", "description": "拖欠工资",
                                              "applicant": {"name": "赵敏", "mobile": "135%08d" % i}, "regionCode": "349901001002",
                                              "accept": True}, token)
                    written[0] += 1

            writer = threading.Thread(target=load)
            writer.start()
            time.sleep(1.5)
            copy = os.path.join(d, "copy.sqlite")
            r = run(["backup", copy], data, PLS_DEMO_HISTORY="0")
            time.sleep(0.5)
            stop.set()
            writer.join()
            assert r.returncode == 0, r.stdout + r.stderr
            assert "已备份到" in r.stdout and "密钥" in r.stdout
            with sqlite3.connect(copy) as db:
                backed = db.execute("SELECT COUNT(*) FROM service_requests").fetchone()[0]
                events = db.execute("SELECT COUNT(*) FROM request_events").fetchone()[0]
            assert 0 < backed < written[0], (backed, written[0])
            # Not while the server runs.
            r = run(["restore", copy], data)
            assert r.returncode != 0 and "请先停止 pls serve" in (r.stdout + r.stderr), r.stdout + r.stderr
        finally:
            server.terminate()
            server.wait(timeout=30)
        r = run(["restore", os.path.join(d, "nothing.sqlite")], data)
        assert r.returncode != 0
        r = run(["restore", copy], data)
        assert r.returncode == 0, r.stdout + r.stderr
        with sqlite3.connect(os.path.join(data, "pls.sqlite")) as db:
            assert db.execute("SELECT COUNT(*) FROM service_requests").fetchone()[0] == backed
            assert db.execute("SELECT COUNT(*) FROM request_events").fetchone()[0] == events
        r = run(["ledger", "verify"], data)
        assert r.returncode == 0, r.stdout + r.stderr


def test_a_server_without_its_resources_refuses_to_start_and_says_where_it_looked():
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([os.path.abspath(BIN), "serve", "--port", "0"], cwd=d, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PLS_DATA_DIR=os.path.join(d, "data"), PLS_ROOT=d, LOG_LEVEL="error"))
        assert r.returncode != 0
        assert "找不到页面模板" in r.stdout + r.stderr and d in r.stdout + r.stderr, r.stdout + r.stderr
