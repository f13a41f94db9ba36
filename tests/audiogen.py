"""Audio fixtures made on the spot: tones, noise and click tracks in every accepted format, and
the bad files users upload by mistake (cut short, not audio, lying headers, hostile tags).

Nothing here comes from a recording; WAV/FLAC/OGG/AIFF are written with soundfile and
MP3/Opus/M4A are encoded by ffmpeg from a WAV, as a user's encoder would.
"""
import shutil
import struct
import subprocess
from pathlib import Path

import mutagen
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
    # A little difference between the channels so downmixing is actually exercised.
    frames = np.stack([np.roll(mono, 7 * channel) for channel in range(channels)], axis=1)
    return np.clip(frames, -1, 1).astype(np.float32)


def write_audio(path: Path, fmt: str | None = None, kind: str = "music", seconds: float = 5.0,
                sample_rate: int = 44100, channels: int = 2, seed: int = 0, subtype: str | None = None) -> Path:
    """Write a synthesised clip to `path` in `fmt` (default: the path's suffix); `subtype` is
    soundfile's sample format for WAV/FLAC/AIFF ("PCM_24", "FLOAT", ...; default 16-bit)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    signal = synth(kind, seconds, sample_rate, channels, seed)
    if fmt in SOUNDFILE_FORMATS:
        subtype = "VORBIS" if fmt == "ogg" else subtype or "PCM_16"
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


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly with `args` (overwriting the output); for fixtures write_audio cannot make."""
    binary = shutil.which("ffmpeg")
    if binary is None:
        raise RuntimeError("ffmpeg is needed for this fixture")
    subprocess.run([binary, "-nostdin", "-loglevel", "error", "-y", *args], check=True)


# --- Bad files -------------------------------------------------------------------------------


def write_silence(path: Path, seconds: float, sample_rate: int = 22050) -> Path:
    """Digital silence (every sample 0) as FLAC, written in blocks: ten minutes stay small."""
    block = np.zeros(10 * sample_rate, dtype=np.float32)
    left = int(seconds * sample_rate)
    with sf.SoundFile(path, "w", sample_rate, 1, format="FLAC", subtype="PCM_16") as out:
        while left > 0:
            out.write(block[:left])
            left -= len(block)
    return Path(path)


def write_float_with_nan(path: Path, seconds: float = 2.0, sample_rate: int = 44100) -> Path:
    """A 32-bit float WAV in which some samples are NaN or infinite, as a broken mixer writes them."""
    signal = synth("music", seconds, sample_rate)
    signal[::1000] = np.nan
    signal[500::1000] = np.inf
    sf.write(path, signal, sample_rate, subtype="FLOAT")
    return Path(path)


def truncate(path: Path, fraction: float = 0.5) -> Path:
    """Cut the file short, as an interrupted download or copy leaves it."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


# A one-page PDF without content: the bytes a PDF reader accepts, nothing audio-like in them.
_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def write_not_audio(path: Path, kind: str) -> Path:
    """A file that is no audio at all, under whatever name `path` has: 'text', 'png', 'pdf' or
    'elf' (a copy of the system's `true` program)."""
    path = Path(path)
    if kind == "text":
        path.write_text("These are the lyrics, not the song.\n" * 40)
    elif kind == "png":
        from PIL import Image

        Image.new("RGB", (64, 64), (200, 30, 30)).save(path, format="PNG")
    elif kind == "pdf":
        path.write_bytes(_PDF)
    elif kind == "elf":
        shutil.copyfile(shutil.which("true"), path)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return path


def write_without_audio(path: Path, stream: str) -> Path:
    """A container holding no audio stream: 'video' (an MP4 of a test picture) or 'subtitles'
    (a Matroska file with one subtitle track)."""
    path = Path(path)
    if stream == "video":
        ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5", "-c:v", "mpeg4", "-f", "mp4", str(path))
    elif stream == "subtitles":
        srt = path.with_suffix(".src.srt")
        srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nNo music here\n")
        ffmpeg("-i", str(srt), "-c:s", "srt", "-f", "matroska", str(path))
        srt.unlink()
    else:
        raise ValueError(f"unknown stream {stream!r}")
    return path


def claim_duration(path: Path, hours: float) -> Path:
    """Edit the frame count in an MP3's Xing/Info header (ffmpeg writes one) so that the header
    claims `hours` of audio while the file stays as short as it was."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    at = max(data.find(b"Xing"), data.find(b"Info"))
    if at < 0:
        raise ValueError(f"{path} has no Xing/Info header")
    flags = struct.unpack(">I", data[at + 4:at + 8])[0]
    if not flags & 1:
        raise ValueError(f"{path}'s Xing header has no frame count")
    samples_per_frame = 1152  # MPEG-1 Layer III
    rate = sf.info(str(path)).samplerate
    data[at + 8:at + 12] = struct.pack(">I", int(hours * 3600 * rate / samples_per_frame))
    path.write_bytes(bytes(data))
    return path


def write_tags(path: Path, **fields: str) -> Path:
    """Set text tags (title, artist, album, ...) in the file's own format through mutagen's easy
    interface: ID3 for MP3, Vorbis comments for FLAC/OGG/Opus, MP4 atoms for M4A."""
    audio = mutagen.File(path, easy=True)
    if audio.tags is None:
        audio.add_tags()
    for name, value in fields.items():
        audio[name] = [value]
    audio.save()
    return Path(path)
