"""`python manage.py runapp`: the whole app in one command — a Celery worker (with Celery beat
embedded) and the web server.

Both run as child processes on the settings of this environment (Redis when REDIS_URL is set,
else the embedded filesystem broker). Ctrl-C or SIGTERM stops both; if either dies, the other
is stopped too and the command exits non-zero, so a supervisor notices.
"""
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from classifier import queue

POLL_SECONDS = 0.3


def _die_with_parent() -> None:
    """Runs in the child before exec: if runapp is killed outright (SIGKILL), Linux sends the
    child SIGTERM instead of leaving an orphaned server holding the port."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One supervised process in its own process group (so a terminal's Ctrl-C reaches only
    runapp, which then stops the children in order instead of all at once)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str]):
        self.name = name
        self.process = subprocess.Popen(
            cmd, cwd=settings.BASE_DIR, env={**env, "PYTHONUNBUFFERED": "1"},
            start_new_session=True, preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        return self.process.poll()

    def signal(self, sig: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def kill_group(self) -> None:
        """Last resort, and a sweep for grandchildren (gunicorn/celery pool processes)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


def _children_env() -> dict[str, str]:
    """The environment both children start with. With metrics on, they share an emptied
    PROMETHEUS_MULTIPROC_DIR, so `/metrics` on the web server adds in the worker's
    classifications and every gunicorn process's requests (classifier.metrics)."""
    env = dict(os.environ)
    if settings.METRICS_ENABLED and not env.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = settings.VAR_DIR / "prometheus"
        folder.mkdir(exist_ok=True)
        for stale in folder.glob("*.db"):  # counters of an earlier run would add up with this one's
            stale.unlink()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return env


def _connect_host(host: str) -> str:
    """Where to reach a server bound to `host` from this machine."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _url(host: str, port: int) -> str:
    host = _connect_host(host)
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((_connect_host(host), port), timeout=0.5):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "Run GenreWeb: a Celery worker (with beat) and the gunicorn web server, stopped together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                            help="address to bind (env HOST; default 127.0.0.1, 0.0.0.0 for all interfaces)")
        parser.add_argument("--port", type=int, default=None, help="port to bind (env PORT; default 8000)")
        parser.add_argument("--web-workers", type=int, default=None,
                            help="gunicorn worker processes (env WEB_CONCURRENCY; default 2)")
        parser.add_argument("--stop-timeout", type=float, default=120.0,
                            help="seconds to wait for a clean stop before killing (default 120)")

    def handle(self, *args, host, port, web_workers, stop_timeout, **options):
        port = port if port is not None else self._env_int("PORT", 8000)
        web_workers = web_workers if web_workers is not None else self._env_int("WEB_CONCURRENCY", 2)
        if not 0 < port < 65536:
            raise CommandError(f"Port {port} is out of range (1-65535).")
        if web_workers < 1:
            raise CommandError("--web-workers must be at least 1.")
        self._check_migrations()
        if _listening(host, port):
            raise CommandError(f"Something is already listening on {_url(host, port)}; choose another --port.")

        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        # --beat: the worker also runs Celery beat, which sends the periodic sweep that queues
        # again tracks whose job was lost (classifier.services.recovery).
        worker_cmd = [sys.executable, "-m", "celery", "-A", "genreweb", "worker", "--beat", "--loglevel=INFO",
                      "-Q", ",".join(queue.worker_queues())]
        # gthread: a slow upload or a long audio stream occupies a thread, not a whole worker.
        web_cmd = [sys.executable, "-m", "gunicorn", "genreweb.wsgi:application", "--bind", bind,
                   "--workers", str(web_workers), "--worker-class", "gthread", "--threads", "4",
                   "--timeout", "120", "--graceful-timeout", "10", "--access-logfile", "-"]

        stop_requested: list[int] = []
        previous = {sig: signal.signal(sig, lambda signum, frame: stop_requested.append(signum))
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        children: list[Child] = []
        env = _children_env()
        try:
            children.append(Child("worker", worker_cmd, env))
            children.append(Child("web", web_cmd, env))
            self._say(f"Started Celery worker (pid {children[0].pid}) and web server (pid {children[1].pid}).")
            died = self._supervise(children, host, port, stop_requested)
        finally:
            self._stop(children, stop_timeout, stop_requested)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if died:
            sys.exit(1)  # the reason is already printed; non-zero so a supervisor restarts us
        self._say("GenreWeb stopped.")

    def _supervise(self, children: list[Child], host: str, port: int, stop_requested: list[int]) -> bool:
        """Wait until a stop is requested (False) or a child dies (True)."""
        announced = False
        while not stop_requested:
            for child in children:
                if (code := child.exited()) is not None:
                    self.stderr.write(f"The {child.name} process exited (code {code}); stopping GenreWeb.")
                    return True
            if not announced and _listening(host, port):
                announced = True
                self._say(f"GenreWeb is running at {_url(host, port)}  (Ctrl-C to stop)")
            time.sleep(POLL_SECONDS)
        self._say("Stopping GenreWeb...")
        return False

    def _stop(self, children: list[Child], timeout: float, stop_requested: list[int]) -> None:
        """SIGTERM to both: gunicorn finishes its requests, the worker its current track (warm
        shutdown). A second Ctrl-C, or the timeout, kills what is left; Redis then hands the
        interrupted job out again (acks_late), the filesystem broker cannot."""
        for child in children:
            child.signal(signal.SIGTERM)
        if any(c.exited() is None for c in children):
            self._say("Waiting for both to stop; a running job is finished first (Ctrl-C again to kill).")
        seen = len(stop_requested)
        deadline = time.monotonic() + timeout
        while any(c.exited() is None for c in children):
            if time.monotonic() > deadline or len(stop_requested) > seen:
                self.stderr.write("Killing what has not stopped yet.")
                break
            time.sleep(POLL_SECONDS)
        for child in children:
            child.kill_group()

    def _check_migrations(self) -> None:
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as err:
            raise CommandError(f"Cannot use the database ({settings.DATABASES['default']['ENGINE']}): {err}".strip()) from err
        if plan:
            raise CommandError(f"{len(plan)} database migration(s) not applied yet: run "
                               "`python manage.py migrate` first (`make run` does it for you).")

    def _env_int(self, name: str, default: int) -> int:
        raw = os.environ.get(name, "") or str(default)
        try:
            return int(raw)
        except ValueError:
            raise CommandError(f"{name}={raw!r} is not a whole number.") from None

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()  # the URL line must reach a pipe (tests, supervisors) right away
