"""Fixtures for the ml tests: every audio file is synthesised here, never taken from the data set."""
from __future__ import annotations

import csv
import importlib.util
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED_BUNDLE = REPO / "models" / "saved_models"


def tone(freq: float, seconds: float, sr: int, channels: int = 1, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


def music_like(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """A few harmonic notes over a click track with a little noise: enough to look like music."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    notes = [220.0, 277.2, 329.6, 440.0]
    melody = np.array(notes)[(t * 2).astype(int) % len(notes)]
    y = sum(0.15 / h * np.sin(2 * np.pi * h * melody * t) for h in (1, 2, 3))
    clicks = (np.mod(t, 0.5) < 0.01) * rng.standard_normal(len(t)) * 0.5
    return (y + clicks + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *args], check=True)


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def format_files(audio_dir) -> dict[str, Path]:
    """A 2-s 1 kHz stereo tone at 44.1 kHz in every accepted container."""
    sr, y = 44100, tone(1000.0, 2.0, 44100, channels=2)
    files = {}
    for ext, kw in {"wav": {}, "flac": {}, "ogg": {"format": "OGG", "subtype": "VORBIS"},
                    "mp3": {"format": "MP3", "subtype": "MPEG_LAYER_III"}, "aiff": {"format": "AIFF"}}.items():
        files[ext] = audio_dir / f"tone.{ext}"
        sf.write(files[ext], y, sr, **kw)
    if shutil.which("ffmpeg"):
        for ext, codec in {"opus": "libopus", "m4a": "aac"}.items():
            files[ext] = audio_dir / f"tone.{ext}"
            ffmpeg("-i", str(files["wav"]), "-c:a", codec, str(files[ext]))
    return files


@pytest.fixture(scope="session")
def music_file(audio_dir) -> Path:
    path = audio_dir / "music.wav"
    sf.write(path, music_like(20.0, 22050), 22050)
    return path


@pytest.fixture(scope="session")
def silence_file(audio_dir) -> Path:
    path = audio_dir / "silence.wav"
    sf.write(path, np.zeros(16000 * 10, np.float32), 16000)
    return path


@pytest.fixture(scope="session")
def text_file(audio_dir) -> Path:
    path = audio_dir / "notes.txt"
    path.write_text("this is not audio\n" * 20)
    return path


@pytest.fixture(scope="session")
def empty_file(audio_dir) -> Path:
    path = audio_dir / "empty.mp3"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def shipped_classifier():
    if not (SHIPPED_BUNDLE / "model.pth").is_file():
        pytest.skip("no shipped bundle in models/saved_models (run ml.train first)")
    from ml.inference import get_classifier
    return get_classifier(SHIPPED_BUNDLE, "cpu")


@pytest.fixture(scope="session")
def musicnn_checkpoint() -> Path:
    spec = importlib.util.find_spec("musicnn")
    if spec is None:
        pytest.skip("the musicnn package is not installed, so its checkpoint cannot be checked")
    return Path(spec.origin).parent / "MSD_musicnn"


BASE = yaml.safe_load((REPO / "ml" / "config" / "musicnn_head.yaml").read_text())


@pytest.fixture(scope="session")
def user_csv(tmp_path_factory):
    """labels.csv of 8 short synthetic clips, two genres, splits train (3 each) and test (1 each)."""
    root = tmp_path_factory.mktemp("user")
    (root / "clips").mkdir()
    rows = []
    for i in range(4):
        for genre, make in (("tones", lambda s: tone(300 + 50 * s, 4.0, 22050)),
                            ("beats", lambda s: music_like(4.0, 22050, seed=s))):
            name = f"clips/{genre}{i}.wav"
            sf.write(root / name, make(i), 22050)
            rows.append({"file": name, "genre": genre, "split": "train" if i < 3 else "test"})
    with open(root / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["file", "genre", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return root / "labels.csv"


def write_config(tmp_path, arch, extra_train):
    """A tiny training recipe (2 epochs) for the user_csv clips, written as YAML."""
    cfg = {**BASE, "name": "smoke", "architecture": arch,
           "train": {**BASE["train"], "max_epochs": 2, "patience": 1, "holdout_fraction": 0.34, **extra_train},
           "head_priors": {"toy": {"MSD_musicnn": {"beats": ["dance", "Hip-Hop"], "tones": []},
                                   "MTT_musicnn": {"beats": ["beats"]}}}}
    if arch["name"] != "musicnn_genre":
        cfg.pop("pretrained")
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path
