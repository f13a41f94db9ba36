"""Faults, for real: the broker's Redis killed and restarted empty with tracks queued and in
flight, and the web process killed in the middle of an upload. Real processes all along (a
Redis server the test owns, Celery worker and beat, runapp's gunicorn), on the test database."""
import os
import signal
import socket
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
import redis
from celery import current_app

from classifier import queue
from classifier.models import Prediction, Track
from classifier.services.tokens import token_create
from classifier.tasks import requeue_stale_tracks
from tests.conftest import Worker, _database_url, saved_track
from tests.live import ROOT, App, free_port, wait_until

pytestmark = pytest.mark.worker


class OwnRedis:
    """A redis-server of the test's own on a spare loopback port, keeping nothing on disk, so a
    restart after SIGKILL comes back empty (as a Redis without persistence would)."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)
        wait_until(lambda: self._pings(client), 30, "redis-server to answer")
        client.close()

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def kill(self):
        self.process.kill()
        self.process.wait(30)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def celery(env: dict, *args: str) -> Worker:
    """`celery -A genreweb <args>` (a worker, or beat), its output collected."""
    process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "genreweb", *args, "--loglevel=INFO"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    return Worker(process)


def statuses(tracks) -> dict:
    return dict(Track.objects.filter(pk__in=[t.pk for t in tracks]).values_list("pk", "status"))


def test_tracks_queued_and_in_flight_when_redis_restarts_empty_all_end_done_once(
        transactional_db, user, audio_file, media_dir, own_redis, tmp_path):
    from django.db import connection

    queue_name = f"{current_app.conf.task_default_queue}-redis-restart"
    env = {k: v for k, v in os.environ.items() if k not in {"CLASSIFY_QUEUE", "CACHE_URL"}}
    env.update(DATABASE_URL=_database_url(connection.settings_dict), MEDIA_ROOT=str(media_dir), PYTHONUNBUFFERED="1",
               REDIS_URL=own_redis.url, CELERY_QUEUE=queue_name, CLASSIFY_BATCH_SIZE="1",
               # A sweep every second; queued 4 s without being picked up counts as lost.
               TRACK_SWEEP_INTERVAL="1", TRACK_QUEUED_TIMEOUT="4")
    # As docker-compose runs them: a worker, and beat on its own.
    worker = celery(env, "worker", "--concurrency=1", "--without-gossip", "--without-mingle", "-Q", queue_name)
    beat = celery(env, "beat", "--schedule", str(tmp_path / "beat-schedule"))
    try:
        assert worker.ready.wait(120), worker.output()
        tracks = [saved_track(user, audio_file(f"restart-{i}.{fmt}", fmt=fmt, seconds=5, seed=i))
                  for i, fmt in enumerate(["mp3", "flac", "wav", "ogg", "mp3"])]
        with current_app.connection_for_write(own_redis.url) as broker:
            for track in tracks:
                current_app.send_task(queue.CLASSIFY_TRACK, args=[str(track.pk)], queue=queue_name,
                                      connection=broker)

        # Kill Redis once the worker is on a track, with the others still waiting in Redis.
        wait_until(lambda: Track.Status.PROCESSING in statuses(tracks).values(), 180,
                   "a track to be in flight", worker.output)
        own_redis.kill()
        at_kill = statuses(tracks)
        lost = [pk for pk, status in at_kill.items() if status == Track.Status.QUEUED]
        assert lost, f"nothing was left waiting in Redis: {at_kill}"

        own_redis.start()  # empty: the jobs of the tracks still queued are gone

        wait_until(lambda: set(statuses(tracks).values()) <= {Track.Status.DONE, Track.Status.FAILED}, 300,
                   "every track to finish", lambda: worker.output() + beat.output())
        assert set(statuses(tracks).values()) == {Track.Status.DONE}, worker.output()
        for pk in lost:  # found again by the sweep, not by luck
            assert any(f"track {pk} was queued" in line and "queued again" in line for line in worker.log)
        classified = {p.track_id: p.classified_at for p in Prediction.objects.filter(track__in=tracks)}
        assert set(classified) == {t.pk for t in tracks}

        # Jobs still in Redis (the sweep's, duplicates of the in-flight ones) run and change nothing.
        sweeps = sum("requeue_stale_tracks" in line and "succeeded" in line for line in worker.log)
        wait_until(lambda: sum("requeue_stale_tracks" in line and "succeeded" in line for line in worker.log)
                   >= sweeps + 3, 120, "three more sweeps", lambda: worker.output() + beat.output())
        assert {p.track_id: p.classified_at for p in Prediction.objects.filter(track__in=tracks)} == classified
        assert Prediction.objects.filter(track__in=tracks).count() == len(tracks)
    finally:
        beat.stop()
        worker.stop()


# --- The web process killed in the middle of an upload --------------------------------------

def wav_header(frames: int, rate: int = 44100) -> bytes:
    """The 44-byte header of a 16-bit stereo WAV of `frames` frames."""
    import io

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.setnframes(frames)
        out.writeframes(b"")
    return buffer.getvalue()[:44]


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_the_web_process_killed_mid_upload_leaves_no_file_and_no_track(transactional_db, user, tmp_path, settings):
    from django.db import connection

    var, media = tmp_path / "var", tmp_path / "media"
    media.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "CLASSIFY_QUEUE", "UPLOAD_TEMP_DIR"}}
    env.update(DATABASE_URL=_database_url(connection.settings_dict), MEDIA_ROOT=str(media), GENREWEB_VAR_DIR=str(var),
               CELERY_QUEUE=f"{current_app.conf.task_default_queue}-killed-upload", PYTHONUNBUFFERED="1")
    temp = var / "tmp"  # the server's FILE_UPLOAD_TEMP_DIR
    _, secret = token_create(user=user, name="upload")
    app = App(env, free_port())
    try:
        _, web_pid, url = app.started()
        port = int(url.rstrip("/").rsplit(":", 1)[1])

        size = 64 * 1024 * 1024
        boundary = "killed-mid-upload"
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.wav"\r\n'
                f"Content-Type: audio/wav\r\n\r\n").encode() + wav_header(size // 4)
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = len(head) + size + len(tail)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall((f"POST /api/v1/tracks/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"Authorization: Bearer {secret}\r\nAccept: application/json\r\n"
                          f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                          f"Content-Length: {length}\r\n\r\n").encode() + head)
            chunk = bytes(1024 * 1024)
            for _ in range(24):  # 24 of the 64 MB
                sock.sendall(chunk)
            # The server is writing the upload to its temporary file: kill it there.
            partial = wait_until(lambda: [p for p in files_under(temp) if p.stat().st_size > 8 * 1024 * 1024],
                                 60, "the upload to reach the server's temporary file", app.output)
            os.killpg(web_pid, signal.SIGKILL)
            with pytest.raises(OSError):  # the server is gone: the rest of the body has nowhere to go
                for _ in range(40):
                    sock.sendall(chunk)
                    time.sleep(0.01)

        assert app.process.wait(120) != 0  # runapp saw its web server die and stopped
    finally:
        app.stop()
    assert not Track.objects.exists()
    assert files_under(media) == []

    # The half-received body is left in the server's own temporary folder, never under MEDIA_ROOT;
    # the sweep removes it once nothing has written to it for an hour.
    assert files_under(temp) == partial
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    requeue_stale_tracks.apply(throw=True)
    assert files_under(temp) == partial  # it might still be a live upload
    hour_ago = time.time() - 3601
    os.utime(partial[0], (hour_ago, hour_ago))
    requeue_stale_tracks.apply(throw=True)
    assert files_under(temp) == []
