"""Make tests/data/first-release.tar.gz: a data directory of the first release (commit 502198e)
with stored lines and WAL records that release had not inserted yet. See tests/data/README.md.

Run with the first release installed at TY; writes /tmp/oldrel/data (then tar it).
"""
import base64
import json
import os
import signal
import subprocess
import time
import urllib.request
TY = "/work/baseline/.venv/bin/timberyard"
D = "/tmp/oldrel/data"
def run(*a): return subprocess.run([TY, *a], check=True, capture_output=True, text=True).stdout
creds = json.loads(run("init", "--data-dir", D, "--json", "--account", "first", "--owner-email", "owner@example.com"))
json.dump({k: creds[k] for k in ("ingestion_key", "service_key", "account")}, open("/tmp/oldrel/credentials.json", "w"))
def serve(env):
    p = subprocess.Popen([TY, "serve", "--data-dir", D, "--http", "127.0.0.1:7999"], env={**os.environ, **env}, stdout=open("/tmp/oldrel/log", "a"), stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if urllib.request.urlopen("http://127.0.0.1:7999/readyz").status == 200: return p
        except Exception: time.sleep(0.1)
    raise SystemExit("not ready")
def ingest(lines, host):
    body = json.dumps({"lines": lines}).replace("\"POISON\"", "1e400").encode()
    req = urllib.request.Request(f"http://127.0.0.1:7999/logs/ingest?hostname={host}&tags=old", data=body, headers={"Content-Type": "application/json", "Authorization": "Basic " + base64.b64encode((creds["ingestion_key"] + ":").encode()).decode()})
    print(urllib.request.urlopen(req).read())
def metric(name):
    req = urllib.request.Request("http://127.0.0.1:7999/metrics", headers={"Authorization": "Basic " + base64.b64encode((creds["service_key"] + ":").encode()).decode()})
    for line in urllib.request.urlopen(req).read().decode().splitlines():
        if line.startswith(name + " "): return float(line.split()[1])
    return 0
now = 3786912000000  # 2090-01-01: inside any retention for decades, so TTL never removes these rows
stored = [
    {"line": "stored 0 GET /api/orders 200", "app": "web", "level": "INFO", "timestamp": now - 60000, "meta": {"status": 200, "user": {"id": 42}, "route": "/api/orders"}},
    {"line": "stored 1 payment failed", "app": "payments", "level": "warning", "timestamp": now - 50000, "meta": {"status": 502, "when": "2025-01-01 00:00:00"}},
    {"line": "stored 2 poison meta", "app": "web", "timestamp": now - 40000, "meta": {"big": "POISON"}},
    {"line": "stored 3 ERROR disk full", "app": "db", "timestamp": now - 30000},
    {"line": "stored 4 plain", "app": "web", "timestamp": now - 20000, "meta": '{"request": {"path": "/x"}}'},
]
p = serve({"TIMBERYARD_BATCH_MAX_WAIT_MS": "100", "TIMBERYARD_MAX_TIMESTAMP_SKEW_S": "0"})
ingest(stored, "old-host")
while metric("timberyard_store_lines_total") < len(stored): time.sleep(0.1)
p.send_signal(signal.SIGTERM); p.wait()
p = serve({"TIMBERYARD_BATCH_MAX_WAIT_MS": "600000", "TIMBERYARD_BATCH_MAX_LINES": "1000000", "TIMBERYARD_MAX_TIMESTAMP_SKEW_S": "0"})
pending = [
    {"line": "pending 0 queued in the wal", "app": "web", "level": "INFO", "timestamp": now - 10000, "meta": {"status": 404}},
    {"line": "pending 1 ERROR queued", "app": "db", "timestamp": now - 5000, "meta": {"big": "POISON"}},
]
ingest(pending, "old-host")
p.send_signal(signal.SIGKILL); p.wait()
print("done")
