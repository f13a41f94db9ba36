"""Load on a live server: 20 parallel uploads and 200 mixed API requests against `runapp`
(gunicorn + a Celery worker + beat) on 127.0.0.1. What is checked is what the server answered
and what became of every upload, never how fast (bench/load.py prints the figures)."""
import os
import re

import pytest
from celery import current_app

from classifier.models import Prediction, Track
from classifier.services.tokens import token_create
from tests.audiogen import write_audio
from tests.conftest import _database_url
from tests.library.conftest import make_track  # noqa: F401 (fixture)
from tests.live import App, free_port, wait_until
from tests.loadgen import Api, mixed_requests, run_mixed, run_uploads, summary, uploaded_track_ids

pytestmark = pytest.mark.worker

FORMATS = ["wav", "mp3", "flac", "ogg", "m4a"]
JOB = re.compile(r"Task classifier\.classify_track\[([0-9a-f-]+)\] (received|succeeded)")


def test_parallel_uploads_and_mixed_requests_get_no_5xx_and_every_track_is_classified_once(
        transactional_db, make_user, make_track, password, media_dir, tmp_path):
    from django.db import connection

    uploader, browser = make_user("uploader"), make_user("browser")
    own = {str(make_track(browser, title=f"load {i}", genre=genre).pk) for i, genre in enumerate(["rock", "jazz", "pop"])}
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "CLASSIFY_QUEUE", "CACHE_URL"}}
    env.update(DATABASE_URL=_database_url(connection.settings_dict), MEDIA_ROOT=str(media_dir),
               CELERY_QUEUE=f"{current_app.conf.task_default_queue}-load", PYTHONUNBUFFERED="1",
               # Tight enough that the mix's password logins get throttled, so 429s come back.
               API_LOGIN_THROTTLE_RATE="5/hour")
    app = App(env, free_port(), web_workers=2)
    try:
        _, _, url = app.started()
        files = [write_audio(tmp_path / f"load-{i:02d}.{FORMATS[i % len(FORMATS)]}", kind="music", seconds=4,
                             seed=100 + i) for i in range(20)]

        uploads = run_uploads(Api(url, token_create(user=uploader, name="load")[1]), files, threads=20)
        ids = uploaded_track_ids(uploads)
        # The browser asks for its own tracks and for the uploader's, which must answer 404.
        plan = mixed_requests(sorted(own) + ids, "browser", password, total=200)
        mixed = run_mixed(Api(url, token_create(user=browser, name="load")[1]), plan, threads=8)
        calls = uploads + mixed
        report = summary(calls) + "\n" + app.output(20)

        assert [c.status for c in uploads] == [202] * 20, report
        assert len(mixed) == 200
        assert not [c for c in calls if c.status >= 500], report
        throttled = [c for c in calls if c.status == 429]
        assert throttled, report  # the login limit was reached...
        assert all(c.retry_after and int(c.retry_after) > 0 for c in throttled), report  # ...and said when to retry
        for call in (c for c in mixed if c.kind in ("detail", "similar")):
            assert call.status == (200 if call.path.split("/")[4] in own else 404), (call, report)
        assert {c.status for c in mixed if c.kind not in ("login", "detail", "similar")} == {200}, report

        def finished():
            return Track.objects.filter(pk__in=ids, status__in=[Track.Status.DONE, Track.Status.FAILED]).count() == 20

        wait_until(finished, 600, "all 20 uploads to be classified", app.output)
        assert set(Track.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Track.Status.DONE}
        assert Prediction.objects.filter(track__in=ids).count() == 20
        classified = dict(Prediction.objects.filter(track__in=ids).values_list("track_id", "classified_at"))

        # Once every job sent has run, none of them classified a track a second time.
        def jobs_settled():
            seen = [m.groups() for line in list(app.lines) if (m := JOB.search(line))]
            received = {job for job, event in seen if event == "received"}
            return len(received) >= 20 and received == {job for job, event in seen if event == "succeeded"}

        wait_until(jobs_settled, 120, "every classification job to finish", app.output)
        assert dict(Prediction.objects.filter(track__in=ids).values_list("track_id", "classified_at")) == classified
    finally:
        app.stop()
