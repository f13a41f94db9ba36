"""Every bench runs, in a tiny configuration, so none of them rots. Their figures are printed
(pytest -s, or -rA, shows them), never asserted: timings depend on the machine."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, timeout: int = 600) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_inference_bench_prints_cpu_figures_and_says_what_happened_to_cuda():
    out = run_bench("bench_predict.py", "--runs", "1", "--batch-tracks", "2", "--gpu-tracks", "2", "--seconds", "12")
    assert "cpu: median" in out and "cpu batched: 2 tracks" in out
    # Either the GPU figures, or a line saying the CUDA branch did not run.
    assert "gpu vs cpu in this run" in out or "the CUDA branch did not run" in out


@pytest.mark.worker
def test_pipeline_bench_runs_tracks_through_a_real_worker():
    out = run_bench("bench_pipeline.py", "--tracks", "3", "--short-seconds", "3", "--long-seconds", "8")
    assert "tracks: 3 (3 done, 0 failed)" in out
    for figure in ("tracks/minute/worker", "upload -> done: median", "batch sizes used", "worker time by step",
                   "cores"):
        assert figure in out


def test_web_bench_loads_the_pages_and_the_api_on_a_live_server():
    out = run_bench("bench_web.py", "--tracks", "60", "--api-tracks", "120", "--clients", "3", "--requests", "6")
    assert "queries per request" in out and "cores" in out
    for target in ("library page (60 tracks", "playlist page", "GET /api/v1/tracks/ (60 tracks",
                   "GET /api/v1/tracks/ (120 tracks"):
        line = next(line for line in out.splitlines() if line.startswith(target))
        assert "p50" in line and "p95" in line and "errors 0" in line, line


@pytest.mark.worker
def test_load_bench_runs_uploads_and_mixed_requests_against_its_own_runapp():
    out = run_bench("load.py", "--uploads", "2", "--requests", "11", "--seconds", "3")
    assert "classified: 2 done, 0 failed, 0 unfinished of 2" in out
    assert "5xx: 0" in out and "cores" in out
    for kind in ("upload", "list", "detail", "login", "all"):
        line = next(line for line in out.splitlines() if line.startswith(f"{kind} "))
        assert len(line.split()) >= 5, line  # calls, p50 and p95, statuses
