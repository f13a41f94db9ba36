"""Audio fixtures made on the spot: tones, noise and click tracks in every accepted format.

Nothing here comes from a recording; WAV/FLAC/OGG/AIFF are written with soundfile and
MP3/Opus/M4A are encoded by ffmpeg from a WAV, as a user's encoder would.
"""
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

SOUNDFILE_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "aiff": "AIFF"}
FFMPEG_CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"],
    "opus": ["-ar", "48000", "-c:a", "libopus", "-b:a", "64k", "-f", "ogg"],
    "m4a": ["-c:a", "aac", "-b:a", "128k", "-f", "ipod"],
}
ALL_FORMATS = sorted([*SOUNDFILE_FORMATS, *FFMPEG_CODECS])


def synth(kind: str = "music", seconds: float = 5.0, sample_rate: int = 44100, channels: int = 2, seed: int = 0):
    """A float32 (frames, channels) signal: 'music' (chords over a beat), 'tone', 'noise',
    'clicks' or 'silence'."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    if kind == "tone":
        mono = 0.5 * np.sin(2 * np.pi * 440 * t)
    elif kind == "noise":
        mono = 0.3 * rng.standard_normal(t.size)
    elif kind == "clicks":
        mono = np.zeros(t.size)
        mono[:: sample_rate // 2] = 0.9
    elif kind == "silence":
        mono = np.zeros(t.size)
    elif kind == "music":
        chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
        beat = (np.sin(2 * np.pi * 2 * t) > 0.95) * rng.standard_normal(t.size) * 0.6
        bass = 0.4 * np.sin(2 * np.pi * 55 * t) * (np.sin(2 * np.pi * 1 * t) > 0)
        mono = 0.4 * chord + bass + beat
    else:
        raise ValueError(f"unknown kind {kind!r}")
    # A little left/right difference so downmixing is actually exercised.
    stereo = np.stack([mono, np.roll(mono, 7)], axis=1)[:, :channels]
    return np.clip(stereo, -1, 1).astype(np.float32)


def write_audio(path: Path, fmt: str | None = None, kind: str = "music", seconds: float = 5.0,
                sample_rate: int = 44100, channels: int = 2, seed: int = 0) -> Path:
    """Write a synthesised clip to `path` in `fmt` (default: the path's suffix)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    signal = synth(kind, seconds, sample_rate, channels, seed)
    if fmt in SOUNDFILE_FORMATS:
        subtype = "VORBIS" if fmt == "ogg" else "PCM_16"
        sf.write(path, signal, sample_rate, format=SOUNDFILE_FORMATS[fmt], subtype=subtype)
        return path
    if fmt not in FFMPEG_CODECS:
        raise ValueError(f"unknown format {fmt!r}")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is needed to write " + fmt)
    wav = path.with_suffix(".src.wav")
    sf.write(wav, signal, sample_rate, subtype="PCM_16")
    subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(wav),
                    *FFMPEG_CODECS[fmt], str(path)], check=True)
    wav.unlink()
    return path
