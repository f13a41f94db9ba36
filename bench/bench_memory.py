"""Peak RSS of predicting (and drawing the spectrogram of) a 60-minute 44.1 kHz stereo file.

    python bench/bench_memory.py [--minutes 60] [--format wav|mp3|flac|m4a] [--bundle DIR]

The file is made by ffmpeg straight to disk; each measurement runs in a fresh subprocess
and reads its ru_maxrss.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from ml.bundle import DEFAULT_BUNDLE  # noqa: E402

CHILD = """
import resource, sys, time
from ml.inference import Classifier
clf = Classifier.from_bundle(sys.argv[1], "cpu", threads=2)
t0 = time.perf_counter()
what = sys.argv[3]
if what == "predict":
    p = clf.predict(sys.argv[2]); detail = f"{p.genre} {p.confidence:.2f}, {len(p.timeline)} windows"
elif what == "spectrogram":
    s = clf.spectrogram(sys.argv[2]); detail = f"shape {s.shape}"
else:
    detail = "model loaded only"
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{what}: peak RSS {rss:.0f} MiB, {time.perf_counter() - t0:.2f} s ({detail})")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--format", default="wav", choices=["wav", "mp3", "flac", "m4a"])
    ap.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    args = ap.parse_args()
    seconds = int(args.minutes * 60)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"long.{args.format}"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                        f"sine=frequency=220:sample_rate=44100:duration={seconds}", "-f", "lavfi", "-i",
                        f"anoisesrc=color=pink:amplitude=0.05:sample_rate=44100:duration={seconds}",
                        "-filter_complex", "amix=inputs=2,aformat=channel_layouts=stereo", str(path)], check=True)
        print(f"{args.minutes:g}-minute 44.1 kHz stereo {args.format}: {path.stat().st_size / 2**20:.0f} MiB on disk")
        for what in ("load", "predict", "spectrogram"):
            res = subprocess.run([sys.executable, "-c", CHILD, args.bundle, str(path), what],
                                 capture_output=True, text=True, cwd=REPO)
            print(res.stdout.strip() or res.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
