"""Pages and the API under load, at catalogue size, against a live server on 127.0.0.1.

    python bench/bench_web.py [--tracks 10000] [--api-tracks 100000] [--clients 20] [--requests 400]
                              [--database-url postgres://.../genreweb_bench] [--web-workers 2]

Seeds one user's library with classified tracks (bulk_create: predictions with every genre's
probability, a timeline, tags and an embedding of the shipped model's sizes), starts gunicorn
as `runapp` does, and sends `--requests` requests per target from `--clients` concurrent clients
(keep-alive connections, random pages): the library page, the largest genre playlist page and
GET /api/v1/tracks/. Then it grows the library to `--api-tracks` and measures the API list
again. Prints p50/p95/max latency, errors (anything but 200) and queries per request (counted
in-process with a test client, beside the same page for a 10-track library), with the core
count. Database: a temporary SQLite file unless --database-url names one (migrated; the bench's
users are deleted at the end).
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Child, describe_setup, setup_django, summary_ms  # noqa: E402

SEED_BATCH = 2000
EMBEDDING_SIZE = 200  # the shipped model's (MusiCNN penultimate)


def seed_tracks(user, count: int, start: int = 0, rng: random.Random | None = None) -> None:
    """`count` classified tracks for `user`, numbered from `start`, inserted SEED_BATCH at a time."""
    from django.db import transaction

    from classifier.models import Prediction, Track
    from classifier.selectors import installed_bundle
    from classifier.services.tracks import tracks_store_listed_genre

    rng = rng or random.Random(start)
    config = installed_bundle()["config"]
    labels, tags = config["labels"], config.get("tags", [])
    styles = list(config.get("style_tags", {}))
    for first in range(start, start + count, SEED_BATCH):
        tracks, predictions = [], []
        for i in range(first, min(start + count, first + SEED_BATCH)):
            weights = [rng.random() ** 3 for _ in labels]
            total = sum(weights)
            probabilities = {label: w / total for label, w in zip(labels, weights)}
            genre = max(probabilities, key=probabilities.get)
            track = Track(
                owner=user, original_name=f"track {i:06d}.mp3", file=f"tracks/{user.pk}/bench{i:06d}.mp3",
                sha256=f"{i:064x}", size=4_000_000, format="MP3", title=f"Song {i}",
                artist=f"Artist {i % 700}", album=f"Album {i % 1500}", duration=30 + (i % 300),
                status=Track.Status.DONE if i % 50 else Track.Status.FAILED,
                user_genre=rng.choice(labels) if i % 20 == 0 else "",
            )
            tracks.append(track)
            if track.status == Track.Status.DONE:
                predictions.append(Prediction(
                    track=track, genre=genre, confidence=probabilities[genre], probabilities=probabilities,
                    timeline=[{"start": 3.0 * k, "end": 3.0 * k + 3, "genre": genre, "confidence": 0.5}
                              for k in range(5)],
                    tags={tag: rng.random() for tag in tags},
                    embedding=[rng.uniform(-0.1, 0.1) for _ in range(EMBEDDING_SIZE)],
                    model_version=config["version"], device="cpu", seconds=0.4,
                    uncertain=probabilities[genre] < 0.3, styles={s: rng.random() for s in styles}))
        with transaction.atomic():
            Track.objects.bulk_create(tracks)
            Prediction.objects.bulk_create(predictions)
            tracks_store_listed_genre(Track.objects.filter(pk__in=[t.pk for t in tracks]))  # no signals


def settle(database) -> None:
    """On PostgreSQL, VACUUM ANALYZE the seeded tables, as autovacuum does on a library that grew
    over time: fresh bulk inserts have no statistics or visibility map yet, so counts and index
    walks would read the whole table."""
    if database.vendor == "postgresql":
        with database.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE classifier_track, classifier_prediction")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(port: int, paths: list[str], headers: dict, clients: int) -> tuple[list[float], list[str]]:
    """GET every path, `clients` at a time, each client on its own keep-alive connection.
    Returns the latencies and a description of every failure (non-200 or connection error)."""
    local = threading.local()
    latencies, errors = [], []

    def get(path: str) -> None:
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.perf_counter()
        try:
            local.conn.request("GET", path, headers=headers)
            response = local.conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as err:
            local.conn.close()
            local.conn = None
            errors.append(f"{path}: {type(err).__name__}: {err}")
            return
        latencies.append(time.perf_counter() - t0)
        if response.status != 200:
            errors.append(f"{path}: HTTP {response.status}")

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(get, paths))
    return latencies, errors


def count_queries(client, path: str, **headers) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code} in-process")
    return len(queries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--api-tracks", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=400, help="per target")
    ap.add_argument("--web-workers", type=int, default=2, help="gunicorn processes (4 threads each)")
    ap.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    args = ap.parse_args()

    # Throttling is not what is measured here; nor are the access logs.
    setup_django("web", args.database_url, API_THROTTLE_RATE="100000000/hour", DEBUG="false")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from classifier import selectors
    from classifier.services.tokens import token_create

    users = get_user_model().objects
    user = users.create_user(f"bench-web-{os.getpid()}", password=None)
    small = users.create_user(f"bench-web-small-{os.getpid()}", password=None)
    rng = random.Random(0)
    try:
        t0 = time.perf_counter()
        seed_tracks(user, args.tracks, rng=rng)
        seed_tracks(small, 10, start=10 ** 7, rng=rng)
        settle(connection)
        print(f"seeded {args.tracks} tracks in {time.perf_counter() - t0:.1f} s")

        browser = Client(HTTP_HOST="127.0.0.1")
        browser.force_login(user)  # a session in the database: the live server accepts its cookie
        small_browser = Client(HTTP_HOST="127.0.0.1")
        small_browser.force_login(small)
        _, secret = token_create(user=user, name="bench")
        _, small_secret = token_create(user=small, name="bench")
        genres = selectors.genre_counts(user=user, certain_only=True)
        playlist = f"/playlists/{genres[0]['genre']}/"
        small_playlist = f"/playlists/{selectors.genre_counts(user=small, certain_only=True)[0]['genre']}/"
        pages = max(1, args.tracks // 50)

        print(f"host: {describe_setup()}; gunicorn {args.web_workers} workers x 4 threads; "
              f"{args.clients} concurrent clients on 127.0.0.1")
        print("queries per request (this library / a 10-track library): "
              f"library {count_queries(browser, '/library/')} / {count_queries(small_browser, '/library/')}, "
              f"playlist {count_queries(browser, playlist)} / {count_queries(small_browser, small_playlist)}, "
              f"API list {count_queries(browser, '/api/v1/tracks/', authorization=f'Bearer {secret}')}"
              f" / {count_queries(small_browser, '/api/v1/tracks/', authorization=f'Bearer {small_secret}')}")

        port = free_port()
        server = Child([sys.executable, "-m", "gunicorn", "genreweb.wsgi:application", "--bind", f"127.0.0.1:{port}",
                        "--workers", str(args.web_workers), "--worker-class", "gthread", "--threads", "4"],
                       "Booting worker")
        try:
            server.wait_ready(120, "gunicorn")
            deadline = time.monotonic() + 120
            while sum("Booting worker" in line for line in server.lines) < args.web_workers:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn's workers did not all start:\n" + server.tail())
                time.sleep(0.2)
            cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
            token = {"Authorization": f"Bearer {secret}"}
            # Warm every gunicorn worker thread (imports, templates, the bundle's files), untimed.
            warm = args.web_workers * 4
            load(port, ["/library/", playlist] * warm, cookie, warm)
            load(port, ["/api/v1/tracks/"] * warm, token, warm)

            targets = [
                (f"library page ({args.tracks} tracks, random pages)",
                 [f"/library/?page={rng.randint(1, pages)}" for _ in range(args.requests)], cookie),
                (f"playlist page {playlist} ({genres[0]['count']} tracks)", [playlist] * args.requests, cookie),
                (f"GET /api/v1/tracks/ ({args.tracks} tracks, random pages)",
                 [f"/api/v1/tracks/?page={rng.randint(1, pages)}" for _ in range(args.requests)], token),
            ]
            run(port, targets, args.clients)

            if args.api_tracks > args.tracks:
                t0 = time.perf_counter()
                seed_tracks(user, args.api_tracks - args.tracks, start=args.tracks, rng=rng)
                settle(connection)
                print(f"seeded up to {args.api_tracks} tracks in {time.perf_counter() - t0:.1f} s")
                pages = args.api_tracks // 50
                run(port, [(f"GET /api/v1/tracks/ ({args.api_tracks} tracks, random pages)",
                            [f"/api/v1/tracks/?page={rng.randint(1, pages)}" for _ in range(args.requests)],
                            token)], args.clients)
        finally:
            server.stop()
    finally:
        users.filter(pk__in=[user.pk, small.pk]).delete()


def run(port: int, targets, clients: int) -> None:
    for name, paths, headers in targets:
        t0 = time.perf_counter()
        latencies, errors = load(port, paths, headers, clients)
        wall = time.perf_counter() - t0
        figures = summary_ms(latencies) if latencies else "no answers"
        print(f"{name}: {len(paths)} requests, {figures}, {len(paths) / wall:.0f} requests/s, "
              f"errors {len(errors)}")
        for line in errors[:5]:
            print(f"  error: {line}")


if __name__ == "__main__":
    main()
