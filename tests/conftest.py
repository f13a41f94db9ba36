"""Shared fixtures: a temporary media root, users, generated audio and a real Celery worker.

The worker is a separate `celery -A genreweb worker` process on the broker the settings name
(Redis when REDIS_URL is set, else the embedded filesystem broker) and the test database.
Run concurrent test sessions with distinct CELERY_QUEUE and DATABASE_URL/GENREWEB_VAR_DIR.
"""
import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.test import Client

from tests.audiogen import write_audio

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_root(settings, media_dir):
    settings.MEDIA_ROOT = str(media_dir)


@pytest.fixture
def own_media_dir(tmp_path, settings):
    """A media root of this test's own, so stored files can be counted exactly."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    # Django's hasher is slow on purpose (half a second a password on CI's cores) and the suite
    # creates and logs in hundreds of users; the one under test is the login, not the hash.
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters (uploads, failed logins) live in the cache, keyed by user id, which
    # the test database hands out again: one test's requests must not limit the next.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def make_user(db):
    def make(username="alice", **extra):
        return get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("mallory")


@pytest.fixture
def login_client():
    """login_client(user) → a Client with that user logged in."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def alice_client(user, login_client):
    return login_client(user)


@pytest.fixture
def audio_file(tmp_path):
    """audio_file("song.mp3", kind="music", seconds=5) → Path of a generated file."""

    def make(name="song.mp3", **kwargs):
        return write_audio(tmp_path / name, **kwargs)

    return make


def _database_url(db: dict) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{auth}@" if auth else ""
    return f"postgres://{host}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.log: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.log.append(line)
            if " ready." in line:
                self.ready.set()

    def output(self) -> str:
        return "".join(self.log[-80:])

    def stop(self, sig=None):
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(media_dir, *, extra_env=None, queue=None) -> Worker:
    """Start a worker against the (already created) test database and wait until it is ready.
    `extra_env` adds variables (e.g. a storage of its own); `queue` replaces CELERY_TASK_DEFAULT_QUEUE."""
    from django.db import connection

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "MEDIA_ROOT": str(media_dir),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    cmd = [sys.executable, "-m", "celery", "-A", "genreweb", "worker", "--loglevel=INFO",
           "--concurrency=1", "--pool=prefork", "--without-gossip", "--without-mingle",
           "-Q", queue or django_settings.CELERY_TASK_DEFAULT_QUEUE]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    worker = Worker(process)
    if not worker.ready.wait(120):
        worker.stop()
        raise RuntimeError("Celery worker did not start:\n" + worker.output())
    return worker


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, media_dir):
    """A real Celery worker process for the whole session (stopped before the test DB goes)."""
    with django_db_blocker.unblock():
        worker = start_worker(media_dir)
    yield worker
    worker.stop()


def wait_for_track(track_id, statuses=("done", "failed"), timeout=180, worker=None):
    """Poll the database until the track reaches one of `statuses`; returns the fresh Track."""
    from classifier.models import Track

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        track = Track.objects.filter(pk=track_id).first()
        if track is not None and track.status in statuses:
            return track
        time.sleep(0.25)
    log = worker.output() if worker else ""
    raise AssertionError(f"track {track_id} did not reach {statuses} in {timeout}s\n{log}")


def saved_track(owner, path):
    """A queued track with its audio stored and no job sent: the test sends or runs the jobs."""
    from classifier.models import Track

    track = Track(owner=owner, original_name=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                  size=path.stat().st_size, format=path.suffix[1:].upper())
    with open(path, "rb") as handle:
        track.file.save(path.name, File(handle), save=False)
    track.save()
    return track


def stored_files(folder: Path) -> list[Path]:
    """Every file under `folder` (none when it does not exist), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
