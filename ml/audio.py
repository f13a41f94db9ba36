"""Audio decoding: probe, stream and window-read any accepted file as mono float32.

soundfile (libsndfile) handles WAV, FLAC, OGG/Opus, MP3 and AIFF and can seek, so only the
requested windows are decoded. Anything else (M4A/AAC, ...) goes through an ffmpeg pipe that
is read in blocks. Downmixing and resampling (soxr) happen here and nowhere else.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import soundfile as sf
import soxr

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
BLOCK_SECONDS = 10.0  # decode granularity: bounds memory for hour-long files
_FFPROBE_FORMATS = {"mov": "M4A", "mp4": "M4A", "m4a": "M4A", "aac": "AAC", "matroska": "MKA",
                    "webm": "WEBM", "asf": "WMA", "wav": "WAV", "mp3": "MP3", "flac": "FLAC",
                    "ogg": "OGG", "aiff": "AIFF"}


class AudioError(Exception):
    """The file cannot be decoded as audio. str(err) is a short reason a user can read."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    sample_rate: int
    channels: int
    duration: float


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise AudioError("file not found")
    if path.stat().st_size == 0:
        raise AudioError("the file is empty")


def _soundfile_info(path: Path) -> AudioInfo | None:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None
    fmt = "OPUS" if info.subtype == "OPUS" else info.format
    duration = info.frames / info.samplerate if info.samplerate else 0.0
    return AudioInfo(fmt, int(info.samplerate), int(info.channels), float(duration))


def _ffprobe_info(path: Path) -> AudioInfo:
    cmd = [FFPROBE, "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels,duration:format=format_name,duration", "-of", "json", str(path)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise AudioError("unsupported audio format (ffmpeg is not installed)") from None
    except subprocess.TimeoutExpired:
        raise AudioError("the file could not be read in time") from None
    if res.returncode != 0:
        raise AudioError("its content is in no audio format we know")
    meta = json.loads(res.stdout or "{}")
    streams = meta.get("streams") or []
    if not streams:
        raise AudioError("the file contains no audio stream")
    stream, fmt = streams[0], meta.get("format", {})
    duration = stream.get("duration") or fmt.get("duration") or 0
    name = fmt.get("format_name", "").split(",")[0]
    return AudioInfo(_FFPROBE_FORMATS.get(name, name.upper()), int(stream.get("sample_rate", 0)),
                     int(stream.get("channels", 0)), float(duration))


# MPEG audio frame headers (ISO 11172-3, 13818-3): enough to step from one frame to the next.
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MPEG_KBPS = {  # (MPEG-1?, layer) -> kbit/s for bitrate index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
MPEG_SEARCH_BYTES = 128 * 1024  # where the first frame may start after the ID3v2 tags
MPEG_MIN_FRAMES = 4  # consecutive frames that make a stream MPEG audio (ffmpeg's probe asks as many)


def _mpeg_frame_bytes(h: bytes) -> int:
    """Length of the MPEG audio frame whose 4-byte header is ``h``; 0 if it is no valid header."""
    version, layer_bits = (h[1] >> 3) & 3, (h[1] >> 1) & 3
    kbps, rate, padding = h[2] >> 4, (h[2] >> 2) & 3, (h[2] >> 1) & 1
    if (h[0] != 0xFF or h[1] & 0xE0 != 0xE0 or version == 1 or layer_bits == 0 or kbps in (0, 15)
            or rate == 3 or h[3] & 3 == 2):
        return 0
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate, rate = _MPEG_KBPS[mpeg1, layer][kbps - 1] * 1000, _MPEG_RATES[version][rate]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    return (144 if mpeg1 or layer == 2 else 72) * bitrate // rate + padding


def _has_mpeg_frames(path: Path) -> bool:
    """True when MPEG audio frames follow one another near the start of the file (after its
    ID3v2 tags). libsndfile's mp3 decoder resyncs through anything, so on its own it takes a
    program or random bytes named .mp3 for a few seconds of noise."""
    with open(path, "rb") as f:
        start = 0
        while True:  # ID3v2 tags, possibly several: 10-byte header, syncsafe size, optional footer
            f.seek(start)
            head = f.read(10)
            if len(head) < 10 or head[:3] != b"ID3":
                break
            size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9] & 0x7F
            start += 10 + size + (10 if head[5] & 0x10 else 0)
        f.seek(start)
        data = f.read(MPEG_SEARCH_BYTES + MPEG_MIN_FRAMES * 2048)  # frames are under 2 KB
        whole = not f.read(1)
    at = data.find(b"\xff")
    while 0 <= at < MPEG_SEARCH_BYTES:
        # A stream keeps its MPEG version, layer and sample rate from frame to frame; bytes that
        # merely look like headers (runs of 0xFF in a program) do not.
        same = (data[at + 1] & 0xFE, data[at + 2] & 0x0C) if at + 2 < len(data) else None
        pos, frames = at, 0
        while (pos + 4 <= len(data) and (data[pos + 1] & 0xFE, data[pos + 2] & 0x0C) == same
               and (length := _mpeg_frame_bytes(data[pos:pos + 4]))):
            pos, frames = pos + length, frames + 1
            if frames >= MPEG_MIN_FRAMES:
                return True
        if frames > 1 and whole and pos == len(data):  # a very short file, frames up to its end
            return True
        at = data.find(b"\xff", at + 1)
    return False


def probe_audio(path) -> AudioInfo:
    """Header-only check: format, sample rate, channels, duration. Raises AudioError."""
    path = Path(path)
    _check_file(path)
    info = _soundfile_info(path) or _ffprobe_info(path)
    if info.format == "MP3" and not _has_mpeg_frames(path):
        raise AudioError("it looks like an MP3 but holds no MP3 audio")
    if info.sample_rate <= 0 or info.channels <= 0:
        raise AudioError("the file contains no audio stream")
    if info.duration <= 0:
        raise AudioError("the audio has zero duration")
    return info


class _Resampler:
    """Streaming mono resampler (soxr); a pass-through when the rates already match."""

    def __init__(self, rate_in: int, rate_out: int):
        self.stream = None if rate_in == rate_out else soxr.ResampleStream(
            rate_in, rate_out, 1, dtype="float32", quality="HQ")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self.stream is None:
            return block
        return self.stream.resample_chunk(block, last=last)


def _resample_window(chunk: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """One-shot soxr resampling of a decoded window (the streaming twin is _Resampler)."""
    if rate_in == rate_out or not len(chunk):
        return chunk
    return soxr.resample(chunk, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


def _mono(block: np.ndarray) -> np.ndarray:
    mono = np.ascontiguousarray(block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block,
                                dtype=np.float32)
    # A float file can hold NaN or infinity; one such sample would make every window NaN.
    return np.nan_to_num(mono, copy=False, nan=0.0, posinf=0.0, neginf=0.0)


def _open_soundfile(path: Path) -> sf.SoundFile | None:
    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None


def _soundfile_blocks(f: sf.SoundFile) -> Iterator[np.ndarray]:
    block = int(BLOCK_SECONDS * f.samplerate)
    try:
        # Not f.blocks(): it yields as many frames as the header promised, so a file cut short
        # comes out padded with whatever memory held (huge values, NaN). read() returns what was
        # decoded, fewer frames at the real end.
        while len(chunk := f.read(block, dtype="float32", always_2d=True)):
            yield _mono(chunk)
            if len(chunk) < block:
                break
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(f"the audio data is corrupt ({err})") from None


def _ffmpeg_cmd(path: Path, start: float | None = None, duration: float | None = None) -> list[str]:
    """Raw float32 PCM of the first audio stream on stdout, native rate and channels.

    ``-ss`` before ``-i`` seeks in the container, so a window costs about its own length.
    """
    span = [] if start is None else ["-ss", f"{start:.3f}", "-t", f"{duration:.3f}"]
    return [FFMPEG, "-nostdin", "-v", "error", *span, "-i", str(path), "-map", "0:a:0", "-vn",
            "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]


def _ffmpeg_format(path: Path) -> tuple[int, int]:
    info = _ffprobe_info(path)
    if info.channels <= 0 or info.sample_rate <= 0:
        raise AudioError("the file contains no audio stream")
    return info.sample_rate, info.channels


def _ffmpeg_blocks(path: Path) -> tuple[int, Iterator[np.ndarray]]:
    rate, channels = _ffmpeg_format(path)

    def blocks():
        # stderr goes to a file: a pipe nobody drains can fill up and stall ffmpeg on a bad stream
        errors = tempfile.TemporaryFile()
        proc = subprocess.Popen(_ffmpeg_cmd(path), stdout=subprocess.PIPE, stderr=errors)
        frame_bytes = 4 * channels
        want = int(BLOCK_SECONDS * rate) * frame_bytes
        got_any = False
        try:
            while True:
                data = proc.stdout.read(want)
                usable = len(data) - len(data) % frame_bytes
                if usable:
                    got_any = True
                    yield _mono(np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels))
                if len(data) < want:
                    break
            if proc.wait() != 0 and not got_any:
                errors.seek(0)
                err = errors.read()[-2000:].decode(errors="replace").strip()
                raise AudioError(f"the audio could not be decoded ({err.splitlines()[-1] if err else 'ffmpeg failed'})")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            errors.close()

    return rate, blocks()


def stream_audio(path, sample_rate: int) -> Iterator[np.ndarray]:
    """Yield the whole track as mono float32 blocks at ``sample_rate`` (about BLOCK_SECONDS each)."""
    path = Path(path)
    _check_file(path)
    f = _open_soundfile(path)
    if f is not None:
        rate, blocks = f.samplerate, _soundfile_blocks(f)
    else:
        rate, blocks = _ffmpeg_blocks(path)
    resample = _Resampler(rate, sample_rate)
    try:
        for block in blocks:
            out = resample(block)
            if out.size:
                yield out
        tail = resample(np.zeros(0, np.float32), last=True)
        if tail.size:
            yield tail
    finally:
        if f is not None:
            f.close()


def load_audio(path, sample_rate: int) -> np.ndarray:
    """Whole track in memory: for short clips (training data), not for uploads."""
    blocks = list(stream_audio(path, sample_rate))
    if not blocks:
        raise AudioError("no audio could be decoded")
    return np.concatenate(blocks)


def collect_windows(blocks: Iterable[np.ndarray], sample_rate: int,
                    windows: list[tuple[float, float]]) -> list[np.ndarray]:
    """Cut (start, end)-second windows out of a block stream, holding one block at a time."""
    bounds = [(int(round(s * sample_rate)), int(round(e * sample_rate))) for s, e in windows]
    parts: list[list[np.ndarray]] = [[] for _ in windows]
    pos = 0
    last_end = max((e for _, e in bounds), default=0)
    for block in blocks:
        end = pos + len(block)
        for i, (s, e) in enumerate(bounds):
            if s < end and e > pos:
                parts[i].append(block[max(s - pos, 0):min(e, end) - pos].copy())
        pos = end
        if pos >= last_end:
            break
    return [np.concatenate(p) if p else np.zeros(0, np.float32) for p in parts]


def read_windows(path, sample_rate: int, windows: list[tuple[float, float]]) -> list[np.ndarray]:
    """Decode only the given (start, end)-second windows as mono float32 at ``sample_rate``.

    Seeks where the format allows, so a 3-minute MP3 costs a few short reads, not a full decode.
    """
    path = Path(path)
    _check_file(path)
    f = _open_soundfile(path)
    if f is None:
        return _ffmpeg_windows(path, sample_rate, windows)
    if not f.seekable():
        f.close()
        return collect_windows(stream_audio(path, sample_rate), sample_rate, windows)
    out = []
    with f:
        rate = f.samplerate
        try:
            for start, end in windows:
                f.seek(min(int(round(start * rate)), max(f.frames - 1, 0)))
                chunk = _mono(f.read(max(int(round((end - start) * rate)), 0), dtype="float32", always_2d=True))
                out.append(_resample_window(chunk, rate, sample_rate))
        except (sf.LibsndfileError, RuntimeError) as err:
            raise AudioError(f"the audio data is corrupt ({err})") from None
    return out


def _ffmpeg_windows(path: Path, sample_rate: int, windows: list[tuple[float, float]]) -> list[np.ndarray]:
    """One short seeking ffmpeg run per window: an hour-long M4A costs as much as a short one."""
    rate, channels = _ffmpeg_format(path)
    out = []
    for start, end in windows:
        try:
            res = subprocess.run(_ffmpeg_cmd(path, start, end - start), capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            raise AudioError("the file could not be decoded in time") from None
        usable = len(res.stdout) - len(res.stdout) % (4 * channels)
        if res.returncode != 0 and not usable:
            err = res.stderr.decode(errors="replace").strip().splitlines()
            raise AudioError(f"the audio could not be decoded ({err[-1] if err else 'ffmpeg failed'})")
        chunk = _mono(np.frombuffer(res.stdout[:usable], dtype="<f4").reshape(-1, channels))
        out.append(_resample_window(chunk, rate, sample_rate))
    return out
