"""Time full-track prediction of a warm 3-minute MP3 on the CPU, one by one and batched; with
CUDA, the GPU in the same run (the model alone, whole tracks batched, peak GPU memory).

    python bench/bench_predict.py [--bundle models/saved_models] [--runs 7] [--gpu-tracks 32]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ml.audio import read_windows  # noqa: E402
from ml.bundle import DEFAULT_BUNDLE  # noqa: E402
from ml.features import plan_windows  # noqa: E402
from ml.inference import Classifier, probe_audio  # noqa: E402


def synth_track(path: Path, seconds: float = 180.0, sr: int = 44100) -> None:
    """Stereo chords, a bass line and a click track, written block by block as MP3."""
    rng = np.random.default_rng(0)
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 311.1)]
    with sf.SoundFile(path, "w", sr, 2, format="MP3", subtype="MPEG_LAYER_III") as f:
        for start in range(0, int(seconds * sr), sr):
            t = (start + np.arange(sr)) / sr
            chord = chords[int(t[0] / 2) % len(chords)]
            y = sum(0.1 * np.sin(2 * np.pi * f0 * t) for f0 in chord)
            y += 0.2 * np.sin(2 * np.pi * chord[0] / 2 * t) * (np.mod(t, 0.5) < 0.25)
            y += (np.mod(t, 0.25) < 0.005) * 0.4 * rng.standard_normal(sr)
            f.write(np.stack([y, np.roll(y, 100)], axis=1).astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--gpu-tracks", type=int, default=32)
    ap.add_argument("--batch-tracks", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=180.0, help="length of the generated track")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        track = Path(tmp) / "track.mp3"
        synth_track(track, args.seconds)
        duration = probe_audio(track).duration
        clf = Classifier.from_bundle(args.bundle, "cpu", threads=2)
        clf.predict(track)  # warm: first call pays for allocator and kernel setup
        times, cpu = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            clf.predict(track)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        med = statistics.median(times)
        print(f"cpu: median {med:.3f} s over {args.runs} runs (min {min(times):.3f}, max {max(times):.3f}); "
              f"torch threads {torch.get_num_threads()}; {duration:.0f} s track; "
              f"real-time factor {med / duration:.4f} ({duration / med:.0f}x faster than real time); "
              f"segments analysed {clf.max_segments}")
        # wall time depends on what else runs on the host; say how busy it was
        print(f"process CPU time per prediction: median {statistics.median(cpu):.3f} s; "
              f"host load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

        # several tracks per model call (decoding in threads): what a batching worker gets
        batch = [track] * args.batch_tracks
        clf.predict_many(batch)
        t0 = time.perf_counter()
        clf.predict_many(batch)
        batch_s = time.perf_counter() - t0
        print(f"cpu batched: {args.batch_tracks} tracks in {batch_s:.3f} s = {60 * args.batch_tracks / batch_s:.0f} "
              f"tracks/minute (one by one: {60 / med:.0f} tracks/minute), decoding included")

        cpu_rate = args.batch_tracks / batch_s
        if torch.cuda.is_available():
            gpu_branch(args, track, duration, cpu_rate)
        else:
            print("cuda: not available, so the CUDA branch did not run (no GPU figures in this run)")


def gpu_branch(args, track: Path, duration: float, cpu_rate: float) -> None:
    """The same track through the model on the GPU: the model alone on stacked windows, then whole
    tracks batched as the worker does (decoding in threads included), beside the CPU figure."""
    gpu = Classifier.from_bundle(args.bundle, "cuda")
    name = f"{gpu.device} ({torch.cuda.get_device_name(gpu.device)})"
    wins = plan_windows(duration, gpu.segment_samples / gpu.sample_rate, gpu.max_segments)
    waves = read_windows(track, gpu.sample_rate, wins)
    gpu.run_waves(waves * args.gpu_tracks)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(3):
        gpu.run_waves(waves * args.gpu_tracks)
    torch.cuda.synchronize()
    model_s = (time.perf_counter() - t0) / 3
    print(f"{name}: model alone {args.gpu_tracks / model_s:.0f} tracks/s "
          f"({args.gpu_tracks} tracks x {len(waves)} windows per call, decoding excluded)")

    batch = [track] * args.gpu_tracks
    workers = os.cpu_count() or 1
    gpu.predict_many(batch, workers=workers)  # warm: kernels for this batch shape
    torch.cuda.reset_peak_memory_stats(gpu.device)
    timings: dict = {}
    t0 = time.perf_counter()
    gpu.predict_many(batch, workers=workers, timings=timings)
    wall = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(gpu.device) / 2**20
    gpu_rate = args.gpu_tracks / wall
    print(f"{name}: batched tracks {gpu_rate:.1f} tracks/s ({args.gpu_tracks} tracks per call, decoding in "
          f"{workers} threads {timings['decode']:.2f} s, model {timings['model']:.2f} s); "
          f"peak GPU memory {peak:.0f} MiB")
    print(f"gpu vs cpu in this run: {gpu_rate:.1f} vs {cpu_rate:.1f} tracks/s = {gpu_rate / cpu_rate:.1f}x; "
          f"limited by {'decoding' if timings['decode'] > timings['model'] else 'the model'}")

if __name__ == "__main__":
    main()
