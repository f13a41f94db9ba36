"""What the whole-app benches share: a Django of their own (temporary folders and database)
and child processes (a Celery worker, gunicorn) whose output is kept."""
from __future__ import annotations

import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup_django(name: str, database_url: str = "", **env: str) -> Path:
    """Point this process (and the children it starts) at fresh state in a temporary folder: var
    dir, media, a SQLite file unless `database_url` names a database, and a queue of its own on
    the broker the environment names (REDIS_URL, else the embedded one). Migrates the database
    and returns the folder, which is removed when the process exits."""
    tmp = Path(tempfile.mkdtemp(prefix=f"genreweb-{name}-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="genreweb.settings",
        GENREWEB_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        DATABASE_URL=database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
        CELERY_QUEUE=f"bench-{name}-{os.getpid()}",
        **env,
    )
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp


def describe_setup() -> str:
    from django.conf import settings

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if settings.REDIS_URL else "filesystem (embedded)"
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; database {database}; broker {broker}"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary_ms(seconds: list[float]) -> str:
    ms = [1000 * s for s in seconds]
    return f"p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms"


class Child:
    """A subprocess in the repository with this process's environment (plus `env`); its output
    is kept in `lines`, and `ready` is set once a line contains `ready_text`."""

    def __init__(self, cmd: list[str], ready_text: str, **env: str):
        self.process = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._ready_text = ready_text
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if self._ready_text in line:
                self.ready.set()

    def wait_ready(self, timeout: float, what: str) -> None:
        if not self.ready.wait(timeout):
            self.stop()
            raise SystemExit(f"{what} did not start:\n" + self.tail())

    def tail(self, n: int = 40) -> str:
        return "".join(self.lines[-n:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def celery_worker(queues: list[str], concurrency: int = 1) -> Child:
    return Child([sys.executable, "-m", "celery", "-A", "genreweb", "worker", "--loglevel=INFO",
                  f"--concurrency={concurrency}", "--pool=prefork", "--without-gossip", "--without-mingle",
                  "-Q", ",".join(queues)], " ready.")
