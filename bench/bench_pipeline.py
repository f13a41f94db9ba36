"""Whole pipeline: generated tracks imported into a real Celery worker, timed until classified.

    python bench/bench_pipeline.py [--tracks 24] [--short-seconds 30] [--long-seconds 180]
                                   [--database-url postgres://.../genreweb_bench] [--batch-size N]

Half the tracks are short clips and half full-length songs, alternately MP3 and FLAC, each a
different synthetic mix (distinct checksums). A worker (`celery -A genreweb worker`,
concurrency 1) is started and warmed up first; then every file goes through the catalogue import
service (`import_file`: checksum, probe, copy into media, queue), as `import_tracks` does, and
the bench waits until each track is done or failed.

Broker: Redis when REDIS_URL is set (a queue of the bench's own), else the embedded filesystem
broker. Database: a fresh SQLite file in a temporary folder unless --database-url names one (its
tables are migrated, and the bench's user and tracks are deleted at the end). Prints tracks per
minute for the one worker, upload-to-done median and p95, the batch sizes the worker used and
where its time went (decoding, model, spectrograms, storing), with the core count and device.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Child, celery_worker, describe_setup, percentile, setup_django  # noqa: E402

BATCH_LINE = re.compile(r"classified a batch of (\d+) track\(s\) on (\S+) in ([\d.]+) s: (.*)")


def make_track(path: Path, seconds: float, index: int) -> None:
    """A synthetic mix (a tone, a pulse and pink noise) unique to `index`, straight from ffmpeg."""
    freq = 110 + 7 * index
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=44100:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency={2 * freq + 1}:beep_factor=4:sample_rate=44100:duration={seconds}",
         "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.05:seed={index}:sample_rate=44100:duration={seconds}",
         "-filter_complex", "amix=inputs=3,aformat=channel_layouts=stereo", str(path)],
        check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=24)
    ap.add_argument("--short-seconds", type=float, default=30)
    ap.add_argument("--long-seconds", type=float, default=180)
    ap.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    ap.add_argument("--batch-size", type=int, default=0, help="CLASSIFY_BATCH_SIZE for the worker (0: by device)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds to wait for every track")
    args = ap.parse_args()

    tmp = setup_django("pipeline", args.database_url, CLASSIFY_BATCH_SIZE=str(args.batch_size))
    os.environ.pop("CLASSIFY_QUEUE", None)  # one worker does everything here
    from django.contrib.auth import get_user_model

    from classifier import queue
    from classifier.models import Track
    from classifier.services.imports import NEW, import_file

    files = []
    t0 = time.perf_counter()
    (tmp / "audio").mkdir()
    for i in range(args.tracks):
        seconds = args.short_seconds if i % 2 == 0 else args.long_seconds
        suffix = "mp3" if (i // 2) % 2 == 0 else "flac"
        path = tmp / "audio" / f"track{i:04d}-{seconds:g}s.{suffix}"
        make_track(path, seconds, i)
        files.append(path)
    print(f"generated {len(files)} tracks ({args.short_seconds:g} s and {args.long_seconds:g} s, MP3 and FLAC) "
          f"in {time.perf_counter() - t0:.1f} s")

    user = get_user_model().objects.create_user(f"bench-{os.getpid()}", password=None)
    worker = celery_worker(queue.worker_queues())
    try:
        worker.wait_ready(180, "the Celery worker")
        # Warm-up: the worker loads the model on its first job; that is not part of the figures.
        warm = tmp / "audio" / "warmup.flac"
        make_track(warm, 5, 9999)
        warm_track = import_file(owner=user, path=warm).track
        wait_for([warm_track.pk], args.timeout, worker)
        seen = len(worker.lines)

        started = time.time()
        ids, queued_at = [], {}
        for path in files:
            result = import_file(owner=user, path=path)
            if result.outcome != NEW:
                raise SystemExit(f"{path.name} was not imported: {result.outcome} {result.message}")
            ids.append(result.track.pk)
            queued_at[result.track.pk] = time.time()
        imported = time.time() - started
        wait_for(ids, args.timeout, worker)
        tracks = list(Track.objects.filter(pk__in=ids))
        report(args, tracks, queued_at, started, imported, worker.lines[seen:])
    finally:
        worker.stop()
        get_user_model().objects.filter(pk=user.pk).delete()


def wait_for(ids: list, timeout: float, worker: Child) -> None:
    from classifier.models import Track

    deadline = time.monotonic() + timeout
    while Track.objects.filter(pk__in=ids, status__in=[Track.Status.QUEUED, Track.Status.PROCESSING]).exists():
        if time.monotonic() > deadline or worker.process.poll() is not None:
            raise SystemExit("tracks were still not classified:\n" + worker.tail())
        time.sleep(0.2)


def report(args, tracks, queued_at, started, imported, log) -> None:
    import torch

    done = [t for t in tracks if t.status == "done"]
    failed = [t for t in tracks if t.status != "done"]
    finished = max(t.updated_at.timestamp() for t in tracks)
    wall = finished - started
    latencies = [t.updated_at.timestamp() - queued_at[t.pk] for t in tracks]
    batches = [BATCH_LINE.search(line) for line in log]
    batches = [m for m in batches if m]
    sizes = Counter(int(m.group(1)) for m in batches)
    steps: Counter = Counter()
    for m in batches:
        for part in m.group(4).split(", "):
            name, seconds, _ = part.rsplit(" ", 2)
            steps[name] += float(seconds)
    device = batches[0].group(2) if batches else "?"
    if device.startswith("cuda") and torch.cuda.is_available():
        device += f" ({torch.cuda.get_device_name()})"

    print(f"host: {describe_setup()}; worker device {device}; 1 worker, concurrency 1")
    print(f"tracks: {len(tracks)} ({len(done)} done, {len(failed)} failed); imported (checksum, probe, copy, "
          f"queue) in {imported:.1f} s while the worker ran")
    print(f"throughput: {60 * len(tracks) / wall:.1f} tracks/minute/worker "
          f"({len(tracks)} tracks in {wall:.1f} s from the first import to the last done)")
    print(f"upload -> done: median {statistics.median(latencies):.1f} s, p95 {percentile(latencies, 0.95):.1f} s, "
          f"max {max(latencies):.1f} s")
    used = ", ".join(f"{size} x{count}" for size, count in sorted(sizes.items()))
    print(f"batches: {sum(sizes.values())} model calls; batch sizes used (size xcount): {used}; "
          f"setting CLASSIFY_BATCH_SIZE={args.batch_size or 'auto'}")
    total = sum(steps.values()) or 1.0
    print("worker time by step: " + ", ".join(
        f"{name} {seconds:.1f} s ({100 * seconds / total:.0f} %, {seconds / max(1, len(tracks)):.3f} s/track)"
        for name, seconds in steps.most_common()))
    if steps:
        limit = max(("decode", "model", "spectrograms"), key=lambda k: steps.get(k, 0.0))
        print(f"what limits it: {limit}")
    for t in failed:
        print(f"failed: {t.original_name}: {t.failure_reason}")


if __name__ == "__main__":
    main()
