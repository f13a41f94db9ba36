"""`manage.py runapp` for real: a gunicorn server and a Celery worker as child processes, on the
embedded defaults (SQLite + filesystem broker) in a temporary var dir."""
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.live import ROOT, App, free_port, wait_until
from tests.ops.test_metrics import parse, value

pytestmark = pytest.mark.worker

# Queues a generated track the way an upload does, in the app's own database, and waits for the
# runapp worker to classify it; prints the final status and genre.
QUEUE_AND_WAIT = """
import sys, time
from pathlib import Path
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from classifier.models import Track
from classifier.services.uploads import track_upload
from tests.audiogen import write_audio

user = get_user_model().objects.create_user("runapp", "runapp@example.com", "x-unused-password-1")
clip = write_audio(Path(sys.argv[1]), "flac", "music", 6)
track = track_upload(owner=user, upload=SimpleUploadedFile("clip.flac", clip.read_bytes())).track
deadline = time.monotonic() + 240
while track.status not in ("done", "failed") and time.monotonic() < deadline:
    time.sleep(0.3)
    track.refresh_from_db()
print(track.status, track.genre or "", track.failure_reason)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return found


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """Environment of a fresh install: no DATABASE_URL/REDIS_URL, its own var dir, migrated."""
    var = tmp_path_factory.mktemp("runapp-var")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "HOST", "PORT"}}
    env.update(GENREWEB_VAR_DIR=str(var), MEDIA_ROOT=str(var / "media"), CELERY_QUEUE="runapp-test",
               PYTHONUNBUFFERED="1", TRACK_SWEEP_INTERVAL="1", METRICS_ENABLED="true")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # runapp sets up its own
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=300)
    return env


@pytest.fixture
def app_factory(app_env):
    apps = []

    def start() -> App:
        apps.append(App(app_env, free_port()))
        return apps[-1]

    yield start
    for app in apps:
        app.stop()


def test_runapp_serves_the_site_classifies_and_stops_both_on_sigterm(app_factory, app_env, tmp_path):
    app = app_factory()
    worker_pid, web_pid, url = app.started()

    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert b"GenreWeb" in response.read()
    assert alive(worker_pid) and alive(web_pid)
    assert worker_pid in children_of(app.process.pid) and web_pid in children_of(app.process.pid)
    assert re.search(r"-m celery -A genreweb worker --beat\b", cmdline(worker_pid))
    # Beat, embedded in the worker, sends the sweep for lost jobs, and the worker runs it.
    wait_until(lambda: any(re.search(r"Task classifier\.requeue_stale_tracks\[\S+\] succeeded", line)
                           for line in app.lines), 60, "beat's first sweep", app.output)
    assert "gunicorn genreweb.wsgi" in cmdline(web_pid)
    family = [worker_pid, web_pid, *children_of(worker_pid), *children_of(web_pid)]
    assert len(family) >= 4  # the celery pool process and the gunicorn worker exist too

    queued = subprocess.run([sys.executable, "-c", QUEUE_AND_WAIT, str(tmp_path / "clip.flac")], cwd=ROOT,
                            env=app_env, capture_output=True, text=True, timeout=300)
    assert queued.returncode == 0, queued.stderr
    status, genre, *_ = queued.stdout.split() + ["", ""]
    assert status == "done", queued.stdout + app.output()
    assert genre

    # The worker's counters reach the web server's /metrics (the folder runapp shares). The track
    # is `done` a moment before the task's own counters are written, so scrape until they are.
    def scrape():
        with urllib.request.urlopen(url + "metrics", timeout=30) as response:
            scraped = parse(response.read().decode())
        finished = value(scraped, "genreweb_task_seconds_count", task="classifier.classify_track", state="SUCCESS")
        return scraped if finished else None

    scraped = wait_until(scrape, 30, "the classification's task counters in /metrics", app.output)
    done = [v for (name, labels), v in scraped.items()
            if name == "genreweb_classifications_total" and ("outcome", "done") in labels]
    assert done == [1.0], scraped
    assert value(scraped, "genreweb_classification_seconds_count") == 1
    assert value(scraped, "genreweb_task_seconds_count", task="classifier.classify_track", state="SUCCESS") >= 1
    assert value(scraped, "genreweb_task_seconds_count", task="classifier.requeue_stale_tracks", state="SUCCESS") >= 1
    assert value(scraped, "genreweb_tracks", status="done") == 1

    app.process.send_signal(signal.SIGTERM)
    assert app.process.wait(90) == 0, app.output()
    wait_until(lambda: not any(alive(pid) for pid in family), 30, "all processes to exit", app.output)
    assert "GenreWeb stopped." in app.output()


def test_runapp_stops_the_web_server_and_fails_when_the_worker_dies(app_factory):
    app = app_factory()
    worker_pid, web_pid, _ = app.started()
    web_family = [web_pid, *children_of(web_pid)]

    os.kill(worker_pid, signal.SIGKILL)
    assert app.process.wait(90) != 0, app.output()
    assert "The worker process exited" in app.output()
    wait_until(lambda: not any(alive(pid) for pid in web_family), 30, "the web server to exit", app.output)
