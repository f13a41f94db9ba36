"""A live GenreWeb in a subprocess: `manage.py runapp` (gunicorn, a Celery worker, Celery beat),
for tests and bench scripts that talk HTTP to it and kill parts of it."""
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTED = re.compile(r"Started Celery worker \(pid (\d+)\) and web server \(pid (\d+)\)")
RUNNING = re.compile(r"GenreWeb is running at (http://\S+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, output=lambda: ""):
    """predicate()'s first truthy result, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{output()}")


class App:
    """A running `manage.py runapp` with its output collected line by line."""

    def __init__(self, env: dict, port: int, web_workers: int = 1):
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runapp", "--port", str(port), "--web-workers", str(web_workers)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self, last: int = 60) -> str:
        return "".join(self.lines[-last:])

    def search(self, pattern: re.Pattern):
        return next((m for line in list(self.lines) if (m := pattern.search(line))), None)

    def started(self) -> tuple[int, int, str]:
        """(worker pid, web pid, URL) once the server answers and the worker is ready."""
        pids = wait_until(lambda: self.search(STARTED), 120, "runapp to start its children", self.output)
        url = wait_until(lambda: self.search(RUNNING), 180, "the URL line", self.output).group(1)
        wait_until(lambda: any(" ready." in line for line in self.lines), 180, "the worker", self.output)
        return int(pids.group(1)), int(pids.group(2)), url

    def stop(self):
        """Kill runapp outright; its children get SIGTERM from the kernel (PR_SET_PDEATHSIG)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
