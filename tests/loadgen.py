"""Load against a live GenreWeb over HTTP: parallel uploads and a bounded mix of API requests,
each call recorded (status, seconds, Retry-After). Used by tests/ops/test_load.py, which checks
what the server answered, and by bench/load.py, which prints the figures.

Plain http.client, one connection per call, in a bounded thread pool: every loop stops by
itself after a fixed number of calls.
"""
import http.client
import json
import statistics
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Call:
    kind: str  # what was asked: "upload", "list", "detail", "login"...
    method: str
    path: str
    status: int
    seconds: float
    retry_after: str | None
    body: bytes


class Api:
    """Calls to one server, as one user's token (or none)."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 120):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.token = token
        self.timeout = timeout

    def call(self, kind: str, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Call:
        headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            content = response.read()
            return Call(kind, method, path, response.status, time.perf_counter() - started,
                        response.getheader("Retry-After"), content)
        finally:
            connection.close()

    def upload(self, path: Path) -> Call:
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + \
            f"\r\n--{boundary}--\r\n".encode()
        return self.call("upload", "POST", "/api/v1/tracks/", body,
                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def run_uploads(api: Api, files: list[Path], threads: int = 20) -> list[Call]:
    """Upload every file at once (up to `threads` in flight)."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(api.upload, files))


def uploaded_track_ids(calls: list[Call]) -> list[str]:
    """Ids of the tracks the uploads created (202) or found again (200, a duplicate)."""
    return [json.loads(call.body)["id"] for call in calls if call.kind == "upload" and call.status in (200, 202)]


def mixed_requests(track_ids: list[str], username: str, password: str, total: int = 200) -> list[tuple]:
    """`total` requests cycling through what API clients do: list, search, filter, detail,
    similar, playlists, genres, stats, the model, token list and password login (whose tight
    per-address limit answers 429 once spent)."""
    login = json.dumps({"username": username, "password": password, "name": "load"}).encode()
    ids = track_ids or [str(uuid.uuid4())]
    kinds = [
        ("list", "GET", lambda i: "/api/v1/tracks/"),
        ("search", "GET", lambda i: "/api/v1/tracks/?search=load"),
        ("filter", "GET", lambda i: "/api/v1/tracks/?status=done&ordering=-created_at"),
        ("detail", "GET", lambda i: f"/api/v1/tracks/{ids[i % len(ids)]}/"),
        ("similar", "GET", lambda i: f"/api/v1/tracks/{ids[i % len(ids)]}/similar/"),
        ("playlists", "GET", lambda i: "/api/v1/playlists/"),
        ("genres", "GET", lambda i: "/api/v1/genres/"),
        ("stats", "GET", lambda i: "/api/v1/stats/"),
        ("model", "GET", lambda i: "/api/v1/model/"),
        ("tokens", "GET", lambda i: "/api/v1/tokens/"),
        ("login", "POST", lambda i: "/api/v1/auth/token/"),
    ]
    plan = []
    for i in range(total):
        kind, method, path = kinds[i % len(kinds)]
        plan.append((kind, method, path(i // len(kinds)), login if kind == "login" else b""))
    return plan


def run_mixed(api: Api, plan: list[tuple], threads: int = 8) -> list[Call]:
    def one(step):
        kind, method, path, body = step
        headers = {"Content-Type": "application/json"} if body else {}
        if kind == "login":  # a password login carries no token
            return Api(f"http://{api.host}:{api.port}", timeout=api.timeout).call(kind, method, path, body, headers)
        return api.call(kind, method, path, body, headers)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, plan))


def summary(calls: list[Call]) -> str:
    """Status counts and p50/p95 latency per kind of call, as a table."""
    rows = [f"{'kind':<10} {'calls':>5} {'p50 ms':>8} {'p95 ms':>8}  statuses"]
    for kind in sorted({c.kind for c in calls}):
        mine = [c for c in calls if c.kind == kind]
        rows.append(f"{kind:<10} {len(mine):>5} {percentile(mine, 50):>8.0f} {percentile(mine, 95):>8.0f}  "
                    + ", ".join(f"{s}: {n}" for s, n in sorted(Counter(c.status for c in mine).items())))
    rows.append(f"{'all':<10} {len(calls):>5} {percentile(calls, 50):>8.0f} {percentile(calls, 95):>8.0f}  "
                + ", ".join(f"{s}: {n}" for s, n in sorted(Counter(c.status for c in calls).items())))
    return "\n".join(rows)


def percentile(calls: list[Call], q: int) -> float:
    """The q-th percentile of the calls' durations, in milliseconds."""
    seconds = sorted(c.seconds for c in calls)
    if len(seconds) < 2:
        return seconds[0] * 1000 if seconds else 0.0
    return statistics.quantiles(seconds, n=100, method="inclusive")[q - 1] * 1000
