"""LOG_FORMAT=json: the web process and the Celery worker write one JSON object per line, with
the request's id, path, status and duration, or the task's id and name, where there is one."""
import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from celery import current_app

from classifier.queue import CLASSIFY_TRACK
from tests.conftest import start_worker
from tests.ops.test_settings import SETTINGS_VARS

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"time", "level", "logger", "message"}

# Serves three requests and logs from a module, the way a view or service would; prints the
# X-Request-ID each response came back with.
REQUESTS = """
import logging, django
django.setup()
from django.test import Client
client = Client()
ids = [client.get("/", HTTP_X_REQUEST_ID="proxy-id-1").headers["X-Request-ID"],
       client.get("/no-such-page/").headers["X-Request-ID"],
       client.get("/api/v1/tracks/").headers["X-Request-ID"]]
logging.getLogger("classifier.services.example").warning("quota reached for %s", "alice", extra={"user_id": 7})
print(" ".join(ids))
"""


def environment(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    return clean | {"DJANGO_SETTINGS_MODULE": "genreweb.settings", "GENREWEB_VAR_DIR": str(tmp_path / "var"), **env}


def run_requests(tmp_path, **env):
    result = subprocess.run([sys.executable, "-c", REQUESTS], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=environment(tmp_path, ALLOWED_HOSTS="testserver", **env))
    assert result.returncode == 0, result.stderr
    return result.stdout.split(), result.stderr


def json_lines(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)  # every line, not just some: a plain-text line fails here
        assert KEYS <= entry.keys(), line
        assert datetime.datetime.fromisoformat(entry["time"]).tzinfo is not None, line
        entries.append(entry)
    return entries


def test_web_logs_are_one_json_object_per_line(tmp_path):
    ids, stderr = run_requests(tmp_path, LOG_FORMAT="json")
    entries = json_lines(stderr)
    requests = {e["path"]: e for e in entries if e["logger"] == "genreweb.request"}
    assert set(requests) == {"/", "/no-such-page/", "/api/v1/tracks/"}
    for (path, status), rid in zip([("/", 200), ("/no-such-page/", 404), ("/api/v1/tracks/", 401)], ids):
        line = requests[path]
        assert (line["method"], line["status"], line["request_id"]) == ("GET", status, rid)
        assert line["duration_ms"] >= 0 and line["level"] == "INFO"
    assert ids[0] == "proxy-id-1"  # a proxy's id is kept, so its logs and ours match up
    assert len(set(ids)) == 3
    # Django's own line about the 404 carries the id of the request it is about.
    not_found = next(e for e in entries if e["logger"] == "django.request")
    assert not_found["request_id"] == ids[1] and not_found["level"] == "WARNING"
    # Outside a request: no request id; fields given with extra= are kept.
    service = next(e for e in entries if e["logger"] == "classifier.services.example")
    assert service["message"] == "quota reached for alice" and service["user_id"] == 7
    assert "request_id" not in service


def test_text_logs_stay_the_default(tmp_path):
    ids, stderr = run_requests(tmp_path)
    assert "quota reached for alice" in stderr.splitlines()
    assert not any(line.startswith("{") for line in stderr.splitlines())
    assert len(set(ids)) == 3  # responses still say their request id


def test_gunicorn_logs_are_json_too(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # As runapp starts it, access log included: with JSON, gunicorn.conf.py replaces that log.
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "genreweb.wsgi:application", "--bind",
                               f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-"], cwd=ROOT,
                              env=environment(tmp_path, LOG_FORMAT="json"), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                    rid = response.headers["X-Request-ID"]
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    entries = json_lines(output)
    assert any(e["logger"] == "gunicorn.error" and e["message"].startswith("Booting worker") for e in entries)
    assert [(e["path"], e["status"]) for e in entries if e.get("request_id") == rid] == [("/", 200)]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_logs_are_one_json_object_per_line(media_dir):
    queue = f"json-logs-{uuid.uuid4().hex[:8]}"
    worker = start_worker(media_dir, extra_env={"LOG_FORMAT": "json"}, queue=queue)
    try:
        missing = str(uuid.uuid4())  # no such track: the job logs that there is nothing to do
        job = current_app.send_task(CLASSIFY_TRACK, args=[missing], queue=queue)
        deadline = time.monotonic() + 120
        # Wait for the job's own line, not the "received" line whose arguments also name the id.
        while not any("nothing to do" in line for line in worker.log) and time.monotonic() < deadline:
            time.sleep(0.2)
        # Before the stop: Celery prints (not logs) its "worker: Warm shutdown" notice as text.
        lines = list(worker.log)
    finally:
        worker.stop()
    entries = json_lines("".join(lines))
    assert any(e["message"].endswith(" ready.") for e in entries)
    task_lines = [e for e in entries if missing in e["message"]]
    assert task_lines, worker.output()
    assert all(e["task_id"] == job.id and e["task_name"] == CLASSIFY_TRACK for e in task_lines)
