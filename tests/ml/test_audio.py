import numpy as np
import pytest
import soundfile as sf

from ml.audio import AudioError, load_audio, probe_audio, read_windows, stream_audio

EXPECTED_FORMAT = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "mp3": "MP3", "aiff": "AIFF",
                   "opus": "OPUS", "m4a": "M4A"}


@pytest.mark.parametrize("ext", sorted(EXPECTED_FORMAT))
def test_every_format_probes_and_decodes(format_files, ext):
    if ext not in format_files:
        pytest.skip("ffmpeg not installed")
    info = probe_audio(format_files[ext])
    assert info.format == EXPECTED_FORMAT[ext]
    assert info.channels == 2
    assert info.duration == pytest.approx(2.0, abs=0.1)
    wave = load_audio(format_files[ext], 16000)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert len(wave) == pytest.approx(32000, abs=1600)  # codec priming/padding allowed
    assert 0.15 < np.abs(wave[4000:28000]).max() < 0.45  # downmixed, not summed or dropped
    (win,) = read_windows(format_files[ext], 16000, [(0.5, 1.5)])
    assert len(win) == pytest.approx(16000, abs=2)


def test_resampling_keeps_the_tone_frequency(format_files):
    wave = load_audio(format_files["wav"], 16000)
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    peak_hz = np.argmax(spectrum) * 16000 / len(wave)
    assert peak_hz == pytest.approx(1000.0, abs=2.0)


def test_stream_yields_bounded_blocks(tmp_path):
    sr = 8000
    sf.write(tmp_path / "long.wav", np.zeros(sr * 45, np.float32), sr)
    blocks = list(stream_audio(tmp_path / "long.wav", 16000))
    assert sum(map(len, blocks)) == pytest.approx(16000 * 45, abs=64)
    assert max(map(len, blocks)) <= 16000 * 11  # ~BLOCK_SECONDS each, never the whole file


def test_probe_rejects_text_and_empty_files(text_file, empty_file, tmp_path):
    for bad in (text_file, empty_file, tmp_path / "missing.wav"):
        with pytest.raises(AudioError) as err:
            probe_audio(bad)
        assert str(err.value)


def test_corrupt_files_are_audio_errors(format_files, tmp_path):
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(format_files["flac"].read_bytes()[:30])
    noise = tmp_path / "noise.m4a"  # goes the ffmpeg way, which must fail cleanly too
    noise.write_bytes(np.random.default_rng(0).bytes(5000))
    for broken in (truncated, noise):
        with pytest.raises(AudioError):
            probe_audio(broken)
        with pytest.raises(AudioError):
            load_audio(broken, 16000)
