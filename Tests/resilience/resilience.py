"""Resilience of a running platform, as an operator would meet it (issue #17).

Each scenario starts its own `pls serve` processes, puts intake load on them, breaks something, and checks what
was promised: every acknowledged request is still there after a hard kill and the hash chain verifies; while
PostgreSQL restarts the server answers 503 with Retry-After (never a 500, never a dropped connection) and comes
back by itself; a full disk gives a clear error and no corruption, and service returns with the space; two
processes behind nginx share sign-ins, the chain and the request numbers.

Run by scripts/test with: PLS_BIN (the pls binary), PG_BIN (PostgreSQL's bin directory), PG_PORT (a running
throw-away cluster on 127.0.0.1, user postgres, trust), WORK (a scratch directory). Only loopback is used.
"""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import http.cookiejar
import urllib.parse
import uuid

import pytest

BIN = os.environ.get("PLS_BIN", "")
PG_BIN = os.environ.get("PG_BIN", "")
PG_PORT = os.environ.get("PG_PORT", "")
WORK = os.environ.get("WORK", "/tmp")
SECRET = "0" * 63 + "7"
PASSWORD = "demo12348"

needs_setup = pytest.mark.skipif(not BIN or not PG_BIN or not PG_PORT, reason="run by scripts/test (PLS_BIN, PG_BIN, PG_PORT)")


# --- Helpers -----------------------------------------------------------------------------------------------

_port = [18500]


def free_port():
    _port[0] += 1
    return _port[0]


class Server:
    def __init__(self, name, env, port=None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(WORK, f"{name}-{self.port}.log")
        self.env = dict(os.environ, LOG_LEVEL="warning", PLS_RATE_LIMIT_SCALE="1000", **env)
        self.proc = None

    def start(self, timeout=180):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited on start:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except Exception:
                pass
            time.sleep(0.3)
        raise AssertionError(f"server not ready after {timeout}s:\n{self.tail()}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


def call(base, method, path, token=None, body=None, headers=None, timeout=15):
    """(status, headers, parsed body); status 0 when the connection failed."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, {k.lower(): v for k, v in r.headers.items()}, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return e.code, {k.lower(): v for k, v in e.headers.items()}, parsed
    except Exception as e:  # refused, reset, timed out
        return 0, {}, str(e)


def token(base, username="operator"):
    for _ in range(30):
        status, _, body = call(base, "POST", "/api/v1/auth/login", body={"username": username, "password": PASSWORD})
        if status == 200:
            return body["token"]
        time.sleep(1)
    raise AssertionError(f"cannot sign in as {username}: {status} {body}")


def village(base, tok):
    status, _, body = call(base, "GET", "/api/v1/regions?level=village&per=1", token=tok)
    assert status == 200, body
    return body["items"][0]["code"]


class Load:
    """Intake from a few threads; remembers every request the server acknowledged, and every answer's status."""

    def __init__(self, bases, tok, region, threads=4):
        self.bases, self.tok, self.region, self.threads = bases, tok, region, threads
        self.acknowledged = {}  # idempotency key -> number
        self.statuses = {}
        self.bad = []  # (status, headers, body) that break the promise
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.workers = []
        self.allow_dropped = False

    def _one(self, i):
        n = 0
        while not self.stop_flag.is_set():
            n += 1
            key = str(uuid.uuid4())
            base = self.bases[n % len(self.bases)]
            status, headers, body = call(base, "POST", "/api/v1/requests", token=self.tok, headers={"Idempotency-Key": key}, body={
                "matterType": "consultation", "category": "labor", "description": f"韧性测试 {i}-{n}",
                "applicant": {"name": "测试", "mobile": f"139{(i * 1000000 + n) % 100000000:08d}"}, "regionCode": self.region})
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status in (200, 201):
                    self.acknowledged[key] = body["number"]
                elif status == 503 and "retry-after" in headers:
                    time.sleep(0.2)
                elif status == 0 and self.allow_dropped:
                    time.sleep(0.2)
                else:
                    self.bad.append((status, headers.get("retry-after"), str(body)[:200]))
                    time.sleep(0.2)

    def start(self):
        for i in range(self.threads):
            t = threading.Thread(target=self._one, args=(i,), daemon=True)
            t.start()
            self.workers.append(t)
        return self

    def stop(self):
        self.stop_flag.set()
        for t in self.workers:
            t.join(timeout=30)


def all_present(base, tok, numbers):
    missing = []
    for number in numbers:
        status, _, _ = call(base, "GET", f"/api/v1/requests/{number}", token=tok)
        if status != 200:
            missing.append((number, status))
    return missing


def ledger_verify(env):
    r = subprocess.run([BIN, "ledger", "verify"], env=dict(os.environ, LOG_LEVEL="warning", **env), capture_output=True, text=True, timeout=300)
    return r.returncode, (r.stdout + r.stderr)[-2000:]


def psql(sql, db="postgres"):
    subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "psql"), "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres",
                    "-d", db, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True, capture_output=True)


def fresh_pg_database():
    name = "pls_res_" + uuid.uuid4().hex[:8]
    psql(f"CREATE DATABASE {name}")
    return {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{name}?sslmode=disable", "PLS_SECRET_KEY": SECRET, "PLS_DEMO": "1"}


def fresh_sqlite(name):
    d = os.path.join(WORK, name + "-" + uuid.uuid4().hex[:6])
    os.makedirs(d)
    return {"PLS_DATA_DIR": d, "PLS_DEMO": "1"}


def assert_kept(server, tok, load, env):
    """Every request the server acknowledged is there, and the hash chain verifies once the server has stopped."""
    try:
        missing = all_present(server.base, tok, sorted(set(load.acknowledged.values())))
        assert missing == [], f"acknowledged requests lost: {missing[:10]} of {len(load.acknowledged)}"
    finally:
        server.stop()
    code, out = ledger_verify(env)
    assert code == 0, out


def kill_during_intake(env):
    server = Server("kill", env).start()
    tok = token(server.base)
    load = Load([server.base], tok, village(server.base, tok)).start()
    time.sleep(4)
    load.allow_dropped = True
    server.kill()
    load.stop()
    assert len(load.acknowledged) > 20, f"too little load before the kill: {load.statuses}"
    assert not [b for b in load.bad if b[0] >= 500], f"server errors before the kill: {load.bad[:5]}"
    server = Server("kill-restart", env).start()
    assert_kept(server, token(server.base), load, env)


# --- Scenarios ---------------------------------------------------------------------------------------------

@needs_setup
def test_sigkill_during_intake_loses_nothing_on_sqlite():
    kill_during_intake(fresh_sqlite("kill-sqlite"))


@needs_setup
def test_sigkill_during_intake_loses_nothing_on_postgresql():
    kill_during_intake(fresh_pg_database())


def pg_ctl(*args):
    subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "pg_ctl"), "-D", os.environ["PG_DATA"], *args],
                   check=True, capture_output=True)


def restart_postgresql_under_load(down_seconds=4):
    """Intake load and a reader on a fresh server while PostgreSQL stops and starts again; what each saw."""
    env = fresh_pg_database()
    server = Server("pg-restart", env).start()
    tok = token(server.base)
    load = Load([server.base], tok, village(server.base, tok)).start()
    reads, read_bad, phase = {"up": [], "down": [], "back": []}, [], ["up"]

    def reader():
        while not load.stop_flag.is_set():
            status, headers, body = call(server.base, "GET", "/api/v1/requests?per=1", token=tok, timeout=15)
            reads[phase[0]].append(status)
            if status not in (200, 503) or (status == 503 and "retry-after" not in headers):
                read_bad.append((phase[0], status, str(body)[:200]))
            time.sleep(0.2)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(2)
    phase[0] = "down"
    pg_ctl("-m", "fast", "-w", "stop")
    time.sleep(down_seconds)
    pg_ctl("-w", "-l", os.path.join(os.environ["PG_DATA"], "server.log"), "-o", os.environ["PG_OPTIONS"], "start")
    phase[0] = "back"
    resumed = len(load.acknowledged)
    deadline = time.time() + 30
    while time.time() < deadline and (len(load.acknowledged) <= resumed + 10 or reads["back"][-3:] != [200, 200, 200]):
        time.sleep(0.5)
    load.stop()
    t.join(timeout=20)
    return server, env, tok, load, reads, read_bad, resumed


@needs_setup
def test_postgresql_restart_reads_are_503_then_recover():
    server, env, tok, load, reads, read_bad, _ = restart_postgresql_under_load()
    try:
        assert server.alive(), server.tail()
        assert read_bad == [], f"reads answered other than 200 or 503 with Retry-After: {read_bad[:5]}"
        assert 503 in reads["down"], f"no 503 while PostgreSQL was down: {reads['down']}"
        assert reads["back"][-3:] == [200, 200, 200], f"reads did not come back: {reads['back'][-10:]}"
        assert [b for b in load.bad if b[0] >= 500 and b[0] != 503] == [], f"intake answered 5xx other than 503: {load.bad[:5]}"
    except BaseException:
        server.stop()
        raise
    assert_kept(server, tok, load, env)


@needs_setup
def test_postgresql_restart_intake_recovers():
    server, env, tok, load, reads, read_bad, resumed = restart_postgresql_under_load()
    try:
        assert len(load.acknowledged) > resumed + 10, f"intake did not come back: {load.statuses}"
        assert [b for b in load.bad if b[0] != 503] == [], f"intake answers other than 2xx or 503 with Retry-After: {load.bad[:5]}"
    finally:
        server.stop()


@needs_setup
def test_a_full_disk_is_a_clear_error_and_service_returns_with_space():
    mount = os.path.join(WORK, "small-disk")
    os.makedirs(mount, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", mount], check=True)
    server = None
    try:
        env = {"PLS_DATA_DIR": os.path.join(mount, "data"), "PLS_DEMO": "1"}
        server = Server("full-disk", env).start()
        tok = token(server.base)
        region = village(server.base, tok)
        load = Load([server.base], tok, region, threads=2).start()
        time.sleep(1)
        filler = os.path.join(mount, "filler")
        # Unbuffered writes: a buffered file's close would retry what a partial write left behind and raise
        # ENOSPC itself, outside the loop that expects it.
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * (1 << 20))
        except OSError:
            pass
        finally:
            os.close(fd)
        time.sleep(4)
        full = dict(load.statuses)
        os.remove(filler)
        resumed = len(load.acknowledged)
        deadline = time.time() + 30
        while time.time() < deadline and len(load.acknowledged) <= resumed + 10:
            time.sleep(0.5)
        load.stop()
        assert server.alive(), server.tail()
        assert full.get(503, 0) > 0, f"no clear error while the disk was full: {full}; {load.bad[:3]}"
        assert load.bad == [], f"answers other than 2xx or 503 with Retry-After: {load.bad[:5]}"
        assert len(load.acknowledged) > resumed + 10, f"service did not return with space: {load.statuses}; {server.tail()}"
        missing = all_present(server.base, tok, sorted(set(load.acknowledged.values())))
        assert missing == [], missing[:10]
        server.stop()
        code, out = ledger_verify(env)
        assert code == 0, out
        import sqlite3
        con = sqlite3.connect(f"file:{env['PLS_DATA_DIR']}/pls.sqlite?mode=ro", uri=True)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
    finally:
        if server:
            server.stop()
        subprocess.run(["umount", "-l", mount], check=False)


class Replica:
    """A streaming replica of the test cluster on loopback (pg_basebackup -R), in a directory of its own."""

    def __init__(self):
        self.port = str(int(PG_PORT) + 7)
        self.data = os.path.join(WORK, "replica")

    def create(self):
        import pwd
        shutil.rmtree(self.data, ignore_errors=True)
        os.makedirs(self.data, mode=0o700)
        pw = pwd.getpwnam("postgres")
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "pg_basebackup"), "-h", "127.0.0.1", "-p", PG_PORT,
                        "-U", "postgres", "-D", self.data, "-R", "-X", "stream"], check=True, capture_output=True)
        return self.start()

    def ctl(self, *args):
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, *args], check=True, capture_output=True)

    def start(self):
        self.ctl("-w", "-l", os.path.join(self.data, "server.log"), "-o",
                 f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.data} -c fsync=off", "start")
        return self

    def stop(self, mode="fast"):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.ctl("-m", mode, "-w", "stop")

    def sql(self, statement):
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "psql"), "-h", "127.0.0.1", "-p", self.port, "-U", "postgres",
                        "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", statement], check=True, capture_output=True)


def metric(base, name):
    import re
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^" + name + r"(?:\{[^}]*\})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def replica_state(base):
    _, _, body = call(base, "GET", "/readyz")
    return (body or {}).get("readReplica") if isinstance(body, dict) else None


def wait_for_state(base, wanted, seconds=30):
    deadline = time.time() + seconds
    state = None
    while time.time() < deadline:
        state = replica_state(base)
        if state == wanted:
            return state
        time.sleep(0.3)
    return state


@needs_setup
def test_analytics_read_from_a_replica_and_from_the_primary_while_it_lags_or_stops():
    db = "pls_replica"
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}")
    replica = Replica().create()
    server = None
    try:
        env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{db}?sslmode=disable",
               "DATABASE_READ_URL": f"postgres://postgres@127.0.0.1:{replica.port}/{db}?sslmode=disable",
               "PLS_SECRET_KEY": SECRET, "PLS_DEMO": "1", "PLS_READ_MAX_LAG": "2"}
        server = Server("replica", env).start()
        assert wait_for_state(server.base, "in_use") == "in_use", server.tail()
        leader, op = token(server.base, "leader"), token(server.base)
        region = village(server.base, op)
        city = call(server.base, "GET", "/api/v1/regions?level=city&per=1", token=op)[2]["items"][0]["code"]

        # Kept up: the indicators and the command screen are read from the replica.
        before = metric(server.base, "read_replica_reads_total") or 0
        for path in [f"/api/v1/indicators?region={city}", "/api/v1/command", "/api/v1/public/statistics"]:
            status, _, body = call(server.base, "GET", path, token=leader)
            assert status == 200, (path, status, body)
        assert (metric(server.base, "read_replica_reads_total") or 0) >= before + 3

        def today_count():
            status, _, body = call(server.base, "GET", "/api/v1/command", token=leader)
            assert status == 200, body
            return body["requestsToday"]

        def intake(n):
            for i in range(n):
                status, _, body = call(server.base, "POST", "/api/v1/requests", token=op, body={
                    "matterType": "consultation", "category": "labor", "description": f"只读副本测试 {i}",
                    "applicant": {"name": "测试", "mobile": f"1391234{i:04d}"}, "regionCode": region})
                assert status == 201, body

        # Replay paused: once it is more than 2 s behind, reads go to the primary and show the newest intakes.
        replica.sql("SELECT pg_wal_replay_pause()")
        start = today_count()
        intake(5)
        assert wait_for_state(server.base, "lagging") == "lagging", server.tail()
        primary_before = metric(server.base, "read_primary_reads_total") or 0
        assert today_count() == start + 5
        assert (metric(server.base, "read_primary_reads_total") or 0) > primary_before
        replica.sql("SELECT pg_wal_replay_resume()")
        assert wait_for_state(server.base, "in_use") == "in_use", server.tail()
        assert today_count() == start + 5

        # Stopped: reads sent to it before the next check are answered by the primary; none fails.
        replica.stop("immediate")
        statuses = [call(server.base, "GET", path, token=leader)[0]
                    for _ in range(5) for path in [f"/api/v1/indicators?region={city}", "/api/v1/command"]]
        assert statuses == [200] * len(statuses), (statuses, server.tail())
        assert wait_for_state(server.base, "unavailable") == "unavailable", server.tail()
        intake(2)
        assert today_count() == start + 7
        # Back: the replica catches up and is read again.
        replica.start()
        assert wait_for_state(server.base, "in_use", seconds=60) == "in_use", server.tail()
        assert today_count() == start + 7
        assert server.alive(), server.tail()
    finally:
        if server:
            server.stop()
        replica.stop("immediate")
        shutil.rmtree(replica.data, ignore_errors=True)


NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  upstream pls {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://pls;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Host $host;
    }}
  }}
}}
"""


@needs_setup
def test_two_processes_behind_nginx_share_sign_ins_the_chain_and_numbers():
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(nginx), "nginx is installed by scripts/test"
    env = fresh_pg_database()
    a = Server("pair-a", env).start()
    b = Server("pair-b", dict(env, PLS_DEMO="0")).start()
    port = free_port()
    conf = os.path.join(WORK, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=WORK, a=a.port, b=b.port, port=port))
    proxy = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(50):
            if call(base, "GET", "/healthz")[0] == 200:
                break
            time.sleep(0.2)
        # A token issued by one process is honoured by the other (round robin alternates them).
        tok = token(base)
        assert all(call(base, "GET", "/api/v1/me", token=tok)[0] == 200 for _ in range(6))
        # A browser session made through one process holds on the other.
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(base + "/login", timeout=10).read()
        csrf = next(c.value for c in jar if c.name == "pls-csrf")
        # Straight to the queue (the dashboard computes every indicator: not what this test is about).
        form = urllib.parse.urlencode({"username": "clerk", "password": PASSWORD, "_csrf": csrf, "next": "/work"}).encode()
        opener.open(urllib.request.Request(base + "/login", data=form, method="POST"), timeout=30).read()
        for _ in range(6):
            with opener.open(base + "/work", timeout=30) as r:
                assert r.status == 200 and "/login" not in r.geturl(), r.geturl()
        # Intakes through both processes at once: one chain, numbers never given twice.
        load = Load([base], tok, village(base, tok), threads=4).start()
        time.sleep(5)
        load.stop()
        assert load.bad == [], load.bad[:5]
        numbers = list(load.acknowledged.values())
        assert len(numbers) > 20 and len(numbers) == len(set(numbers)), f"{len(numbers)} numbers, {len(set(numbers))} distinct"
        assert a.alive() and b.alive()
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        a.stop()
        b.stop()
    code, out = ledger_verify(env)
    assert code == 0, out
