"""Load on a live GenreWeb: parallel uploads and a mix of API requests; prints p50/p95 latency
and status counts per kind of request, and how long classifying the uploads took.

    python bench/load.py [--uploads 20] [--requests 200] [--threads 8] [--seconds 6]
                         [--database-url postgres://.../genreweb_bench]
    python bench/load.py --url http://127.0.0.1:8000 --token gw_... --user NAME --password PW

Without --url it starts its own `manage.py runapp` (gunicorn + worker + beat) on fresh state in
a temporary folder (a SQLite file unless --database-url names a database, which is migrated and
gets a user of this run's own; the filesystem queue unless REDIS_URL names Redis), with throttles lifted so that the figures
measure the server, not the limits (--keep-throttles to see them at work), and stops it at the
end.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, describe_setup, setup_django  # noqa: E402

sys.path.insert(0, str(REPO))
from tests.audiogen import write_audio  # noqa: E402
from tests.live import App, free_port  # noqa: E402
from tests.loadgen import Api, mixed_requests, run_mixed, run_uploads, summary, uploaded_track_ids  # noqa: E402

FORMATS = ["wav", "mp3", "flac", "ogg", "m4a"]


def own_server(keep_throttles: bool, database_url: str, user: str, password: str) -> tuple[App, str, str]:
    """runapp on fresh state of its own (bench.common), and a token for a new user."""
    throttles = {} if keep_throttles else {
        "API_THROTTLE_RATE": "1000000/hour", "API_UPLOAD_THROTTLE_RATE": "1000000/hour",
        "API_LOGIN_THROTTLE_RATE": "1000000/hour"}
    setup_django("load", database_url, **throttles)
    from django.contrib.auth import get_user_model

    from classifier.services.tokens import token_create

    token = token_create(user=get_user_model().objects.create_user(user, "", password), name="bench")[1]
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "CACHE_URL"}}
    app = App({**env, "PYTHONUNBUFFERED": "1"}, free_port(), web_workers=2)
    _, _, url = app.started()
    return app, url, token


def wait_classified(api: Api, ids: list[str], timeout: float) -> tuple[int, int]:
    """(done, failed) once every track left queued/processing (or at the timeout), polling."""
    deadline = time.monotonic() + timeout
    pending = set(ids)
    done = failed = 0
    while pending and time.monotonic() < deadline:
        for track_id in list(pending):
            call = api.call("poll", "GET", f"/api/v1/tracks/{track_id}/")
            status = json.loads(call.body).get("status") if call.status == 200 else None
            if status in ("done", "failed"):
                pending.discard(track_id)
                done += status == "done"
                failed += status == "failed"
        time.sleep(1)
    return done, failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="an already running GenreWeb (needs --token, --user, --password)")
    ap.add_argument("--token", default="")
    ap.add_argument("--user", default=f"bench-load-{os.getpid()}")
    ap.add_argument("--password", default="bench-password-not-secret-1")
    ap.add_argument("--uploads", type=int, default=20)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--threads", type=int, default=8, help="requests in flight in the mixed phase")
    ap.add_argument("--seconds", type=float, default=6.0, help="length of each uploaded clip")
    ap.add_argument("--timeout", type=float, default=900, help="seconds to wait for classification")
    ap.add_argument("--keep-throttles", action="store_true")
    ap.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="genreweb-load-") as tmp:
        folder = Path(tmp)
        app = None
        if args.url:
            url, token = args.url, args.token
        else:
            print("starting runapp ...", flush=True)
            app, url, token = own_server(args.keep_throttles, args.database_url, args.user, args.password)
        try:
            files = [write_audio(folder / f"load-{i:02d}.{FORMATS[i % len(FORMATS)]}", kind="music",
                                 seconds=args.seconds, seed=1000 + i) for i in range(args.uploads)]
            api = Api(url, token)
            started = time.perf_counter()
            uploads = run_uploads(api, files, threads=args.uploads)
            upload_wall = time.perf_counter() - started
            ids = uploaded_track_ids(uploads)
            t0 = time.perf_counter()
            mixed = run_mixed(api, mixed_requests(ids, args.user, args.password, args.requests), args.threads)
            mixed_wall = time.perf_counter() - t0
            done, failed = wait_classified(api, ids, args.timeout)
            seconds = time.perf_counter() - started
        finally:
            if app is not None:
                app.stop()

    calls = uploads + mixed
    if app is not None:
        print(f"\nhost: {describe_setup()}; runapp with 2 gunicorn workers x 4 threads and 1 Celery worker")
    print(f"\n{url}: {len(uploads)} parallel uploads in {upload_wall:.1f} s, "
          f"{len(mixed)} mixed requests ({args.threads} in flight) in {mixed_wall:.1f} s "
          f"({len(mixed) / mixed_wall:.0f} requests/s)\n")
    print(summary(calls))
    throttled = [c for c in calls if c.status == 429]
    print(f"\n5xx: {sum(c.status >= 500 for c in calls)}; 429: {len(throttled)} "
          f"({sum(c.retry_after is not None for c in throttled)} with Retry-After)")
    print(f"classified: {done} done, {failed} failed, {len(ids) - done - failed} unfinished of {len(ids)}; "
          f"all finished {seconds:.0f} s after the first upload ({done / seconds * 60:.1f} tracks/minute)")


if __name__ == "__main__":
    main()
