"""Damaged audio decodes to what is really there: finite samples, never memory the decoder did
not fill."""
import numpy as np

from ml.audio import read_windows, stream_audio
from tests.audiogen import truncate, write_audio, write_float_with_nan

RATE = 16000


def test_a_file_cut_short_streams_only_the_audio_it_still_has(tmp_path):
    path = truncate(write_audio(tmp_path / "cut.mp3", seconds=4), 0.5)
    audio = np.concatenate(list(stream_audio(path, RATE)))
    # The header still says 4 s; about half of it is left. Padding up to the header's length used
    # to come from uninitialised memory (values like 1e9, or NaN that crashed the spectrogram).
    assert 1.5 * RATE < len(audio) < 2.6 * RATE
    assert np.isfinite(audio).all() and np.abs(audio).max() < 2


def test_nan_and_infinite_samples_become_silence(tmp_path):
    path = write_float_with_nan(tmp_path / "nan.wav", seconds=2)
    streamed = np.concatenate(list(stream_audio(path, RATE)))
    windows = read_windows(path, RATE, [(0.0, 1.0), (1.0, 2.0)])
    for audio in (streamed, *windows):
        assert len(audio) and np.isfinite(audio).all()
    assert np.abs(streamed).max() > 0.1  # the music around the bad samples is still there
