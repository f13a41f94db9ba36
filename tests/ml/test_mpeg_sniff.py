"""probe_audio tells MP3 from bytes that only look like it: libsndfile's decoder resyncs through
anything, so a program or random bytes named .mp3 used to pass as a few seconds of noise."""
import numpy as np
import pytest
from mutagen.id3 import APIC, ID3

from ml.audio import AudioError, probe_audio
from tests.audiogen import ffmpeg, write_audio, write_not_audio


@pytest.mark.parametrize("kind", ["text", "png", "pdf", "elf"])
def test_files_that_are_no_audio_are_refused_whatever_their_name(kind, tmp_path):
    path = write_not_audio(tmp_path / f"{kind}.mp3", kind)
    with pytest.raises(AudioError, match="no audio format we know|no MP3 audio|no audio stream"):
        probe_audio(path)


def test_random_bytes_named_mp3_are_refused(tmp_path):
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError, match="no audio format we know|no MP3 audio"):
        probe_audio(path)


@pytest.mark.parametrize("args", [
    ["-ar", "8000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "8k", "-f", "mp3"],      # MPEG-2.5
    ["-ar", "22050", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"],    # MPEG-2
    ["-ar", "48000", "-c:a", "libmp3lame", "-b:a", "320k", "-f", "mp3"],
    ["-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3"],                                   # VBR
    ["-c:a", "libmp3lame", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3"],   # bare frames
    ["-ar", "32000", "-c:a", "mp2", "-b:a", "192k", "-f", "mp2"],                       # Layer II
], ids=["mpeg2.5-8k", "mpeg2-22k", "320k", "vbr", "no-headers", "layer2"])
def test_real_mpeg_audio_of_every_kind_is_accepted(args, tmp_path):
    wav = write_audio(tmp_path / "src.wav", seconds=2)
    path = tmp_path / "song.mp3"
    ffmpeg("-i", str(wav), *args, str(path))
    info = probe_audio(path)
    assert info.format == "MP3" and info.duration == pytest.approx(2, abs=0.2)


def test_a_very_short_mp3_and_one_behind_a_big_id3_tag_are_accepted(tmp_path):
    short = write_audio(tmp_path / "short.mp3", seconds=0.1)
    assert probe_audio(short).duration < 0.5
    covered = write_audio(tmp_path / "covered.mp3", seconds=2)
    tags = ID3(covered)
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=bytes(range(256)) * 1200))
    tags.save()
    assert covered.stat().st_size > 300_000  # the frames start beyond the search window
    assert probe_audio(covered).format == "MP3"
