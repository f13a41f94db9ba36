"""Predict the genre of audio files.

    python -m ml.predict PATH... [--json] [--bundle DIR] [--device cpu]

Folders are searched recursively for audio files. A file that cannot be decoded prints an
error and the run goes on; the exit code is non-zero only when every file failed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .audio import AudioError
from .bundle import DEFAULT_BUNDLE
from .inference import get_classifier

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aif",
                  ".aiff", ".wma", ".webm", ".mka"}


def expand(paths: list[str]) -> list[str]:
    """Files as given; folders replaced by their audio files (named under the folder as given)."""
    out = []
    for arg in paths:
        if os.path.isdir(arg):
            found = sorted(p for p in Path(arg).rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            out += [os.path.join(arg, str(p.relative_to(arg))) for p in found]
        else:
            out.append(arg)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="PATH")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--tags", type=int, default=5, help="how many top tags to show")
    args = ap.parse_args(argv)

    files = expand(args.paths)
    if not files:
        print("no audio files found", file=sys.stderr)
        return 1
    clf = get_classifier(args.bundle, args.device)
    failures = 0
    for name in files:
        try:
            pred = clf.predict(name)
        except (AudioError, OSError) as err:
            failures += 1
            print(f"{name}: error: {err}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": name, "error": str(err)}), flush=True)
            continue
        tags = dict(list(pred.tags.items())[:args.tags])
        if args.json:
            print(json.dumps({"file": name, "genre": pred.genre, "confidence": round(pred.confidence, 4),
                              "probabilities": {k: round(v, 4) for k, v in pred.probabilities.items()},
                              "tags": {k: round(v, 4) for k, v in tags.items()}}), flush=True)
        else:
            ranked = sorted(pred.probabilities.items(), key=lambda kv: -kv[1])
            print(f"{name}: {pred.genre} ({pred.confidence:.2f})")
            print("  " + "  ".join(f"{k} {v:.3f}" for k, v in ranked))
            if tags:
                print("  tags: " + ", ".join(f"{k} {v:.2f}" for k, v in tags.items()))
    return 1 if failures == len(files) else 0


if __name__ == "__main__":
    sys.exit(main())
