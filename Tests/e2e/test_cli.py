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
