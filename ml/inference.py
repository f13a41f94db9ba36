"""The inference API: the only door from the web side into ``ml`` (see ml/README.md).

Nothing here starts threads or touches torch's thread pool at import time, so the module is
safe to import in a Celery prefork parent; models load lazily in whichever process predicts.
"""
from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .audio import AudioError, AudioInfo, probe_audio, read_windows, stream_audio
from .bundle import CONFUSION_PNG, METRICS, load_config, load_model, read_json
from .features import LogMel, plan_windows, segment_samples, to_batch
from .models.fusion import class_mask, group_logits

__all__ = ["AudioError", "AudioInfo", "probe_audio", "Prediction", "Segment", "Classifier",
           "get_classifier", "bundle_info", "resolve_device", "SILENT_BELOW_DBFS"]

# The analysed audio's RMS level under which a track counts as silent: -60 dBFS is about the
# noise floor of a quiet room on a recording, and far below any mastered music (-20 to -8 dBFS).
SILENT_BELOW_DBFS = -60.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    genre: str
    confidence: float


@dataclass(frozen=True)
class Prediction:
    genre: str
    confidence: float
    probabilities: dict[str, float]
    timeline: list[Segment]
    tags: dict[str, float]
    embedding: list[float]
    model_version: str
    device: str
    duration: float          # seconds of audio analysed
    seconds: float
    track_duration: float = 0.0  # length of the whole file, seconds
    # True when the calibrated top probability is below the bundle's threshold: say "uncertain"
    # and show the top two instead of stating one genre.
    uncertain: bool = False
    # Zero-shot style hints from AudioSet classes the bundle has no training data for (folk, soul,
    # punk...): probability each applies, highest first. Not validated, so never the genre.
    styles: dict[str, float] = dataclasses.field(default_factory=dict)
    # The analysed windows are below SILENT_BELOW_DBFS: whatever genre comes out is not about music.
    silent: bool = False

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda:0")
    return dev


def _default_threads() -> int:
    # One worker process per core is the usual Celery setup; ML_TORCH_THREADS overrides.
    return int(os.environ.get("ML_TORCH_THREADS", 0)) or max(1, min(4, os.cpu_count() or 1))


class Classifier:
    """A loaded bundle ready to predict. Build with :meth:`from_bundle` or :func:`get_classifier`."""

    def __init__(self, model: torch.nn.Module, config: dict, device: torch.device):
        self.model, self.config, self.device = model, config, device
        self.name = config.get("name", config["architecture"]["name"])
        self.version = config["version"]
        self.labels: list[str] = list(config["labels"])
        self.tags: list[str] = list(config.get("tags", []))
        self.features = config["features"]
        self.sample_rate: int = int(self.features["sample_rate"])
        self.segment_samples = segment_samples(self.features)
        self.max_segments = int(self.features.get("max_segments", 8))
        self.logmel = LogMel(self.features).to(device)
        calibration = config.get("calibration", {})
        # Fitted on held-out predictions by ml.calibration; 1.0 / 0.0 for bundles without it.
        self.temperature = float(calibration.get("temperature", 1.0))
        self.uncertain_below = float(calibration.get("uncertain_below", 0.0))
        self.style_tags: dict[str, list[int]] = config.get("style_tags", {})
        self.style_mask = class_mask(list(self.style_tags.values()))

    @classmethod
    def from_bundle(cls, bundle_dir, device: str = "auto", threads: int | None = None) -> "Classifier":
        dev = resolve_device(device)
        if dev.type == "cpu":
            torch.set_num_threads(threads or _default_threads())
        model, config = load_model(bundle_dir, dev)
        return cls(model, config, dev)

    @torch.inference_mode()
    def run_waves(self, waves: list[np.ndarray]) -> dict[str, torch.Tensor]:
        """Model outputs for a batch of mono waveforms at the bundle's rate, one segment each."""
        return self.model(to_batch(waves, self.segment_samples, self.device))

    def predict(self, path) -> Prediction:
        """Genre of the whole track from up to ``max_segments`` windows spread over it."""
        result = self.predict_many([path])[0]
        if isinstance(result, AudioError):
            raise result
        return result

    def predict_many(self, paths: list, workers: int = 2,
                     timings: dict | None = None) -> list[Prediction | AudioError]:
        """Several tracks at once: decoded in ``workers`` threads (the decoders release the GIL),
        then the windows of all of them in one model call. Each result is a Prediction, or the
        AudioError that track raised; equal to predicting one by one. ``seconds`` is the batch's
        wall time shared out evenly. A ``timings`` dict gets the wall seconds of "decode" and
        "model" added to it, for whoever wants to know which of the two limits throughput."""
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(paths)))) as pool:
            decoded = list(pool.map(self._decode, paths))
        ready = [d for d in decoded if not isinstance(d, AudioError)]
        waves = [w for _, kept in ready for _, w in kept]
        t1 = time.perf_counter()
        out = self.run_waves(waves) if waves else {}
        if out and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # so "model" is the model's time, not the copy's after it
        t2 = time.perf_counter()
        if timings is not None:
            timings["decode"] = timings.get("decode", 0.0) + t1 - t0
            timings["model"] = timings.get("model", 0.0) + t2 - t1
        seconds = (t2 - t0) / max(1, len(paths))
        results, offset = [], 0
        for d in decoded:
            if isinstance(d, AudioError):
                results.append(d)
                continue
            n = len(d[1])
            results.append(self._prediction(d[0], d[1], {k: v[offset:offset + n] for k, v in out.items()}, seconds))
            offset += n
        return results

    def _decode(self, path) -> tuple[AudioInfo, list[tuple[tuple[float, float], np.ndarray]]] | AudioError:
        """The track's planned windows, decoded: [((start, end), wave)], or the reason it cannot be."""
        try:
            info = probe_audio(path)
            windows = plan_windows(info.duration, self.segment_samples / self.sample_rate, self.max_segments)
            waves = read_windows(path, self.sample_rate, windows)
        except AudioError as err:
            return err
        # header durations can overstate (e.g. VBR MP3): drop windows that decoded to nothing
        kept = [(win, w) for win, w in zip(windows, waves) if len(w)]
        return (info, kept) if kept else AudioError("no audio could be decoded")

    def _prediction(self, info: AudioInfo, kept, out: dict[str, torch.Tensor], seconds: float) -> Prediction:
        """One track's Prediction from the model outputs of its windows."""
        seg_probs = torch.softmax(out["logits"].float() / self.temperature, dim=1).cpu()
        probs = seg_probs.mean(dim=0)
        top = int(probs.argmax())
        timeline = []
        for ((start, _), wave), p in zip(kept, seg_probs):
            k = int(p.argmax())
            timeline.append(Segment(round(start, 3), round(start + len(wave) / self.sample_rate, 3),
                                    self.labels[k], float(p[k])))
        tags = {}
        if "tags" in out and self.tags:
            scores = torch.sigmoid(out["tags"].float()).mean(dim=0).cpu()
            tags = {self.tags[i]: float(scores[i]) for i in scores.argsort(descending=True).tolist()}
        styles = {}
        if "audioset" in out and self.style_tags:
            # a style's classes scored by the model's own rule for its genre prior, window-averaged
            chance = torch.sigmoid(group_logits(out["audioset"].float().cpu(), self.style_mask, self.model.prior_rule))
            scores = dict(zip(self.style_tags, chance.mean(dim=0).tolist()))
            styles = dict(sorted(scores.items(), key=lambda kv: -kv[1]))
        emb = out["embedding"].float().mean(dim=0)
        emb = (emb / emb.norm().clamp_min(1e-12)).cpu()
        samples = sum(len(w) for _, w in kept)
        mean_square = sum(float(np.square(w, dtype=np.float64).sum()) for _, w in kept) / samples
        level_dbfs = 10 * math.log10(mean_square + 1e-12)
        return Prediction(
            genre=self.labels[top], confidence=float(probs[top]),
            probabilities={lab: float(probs[i]) for i, lab in enumerate(self.labels)},
            timeline=timeline, tags=tags, embedding=emb.tolist(), model_version=self.version,
            device=str(self.device), duration=round(samples / self.sample_rate, 3),
            seconds=seconds, track_duration=round(info.duration, 3),
            uncertain=bool(probs[top] < self.uncertain_below), styles=styles, silent=level_dbfs < SILENT_BELOW_DBFS)

    @torch.inference_mode()
    def spectrogram(self, path, max_frames: int = 1200) -> np.ndarray:
        """(n_mels, frames) log-mel for display, averaged down to at most ``max_frames`` columns.

        Streams the file block by block; each block's frames are pooled before the next is read.
        Blocks are transformed independently, which is invisible at display resolution.
        """
        info = probe_audio(path)
        hop = self.features["hop_length"]
        total = info.duration * self.sample_rate / hop + 1
        factor = max(1, math.ceil(total / max_frames))
        pooled, carry = [], None
        for block in stream_audio(path, self.sample_rate):
            mel = self.logmel(torch.from_numpy(block).to(self.device)).cpu()
            carry = mel if carry is None else torch.cat([carry, mel])
            full = (len(carry) // factor) * factor
            if full:
                pooled.append(carry[:full].reshape(-1, factor, mel.shape[1]).mean(dim=1))
                carry = carry[full:]
        if carry is not None and len(carry):
            pooled.append(carry.mean(dim=0, keepdim=True))
        if not pooled:
            raise AudioError("no audio could be decoded")
        return torch.cat(pooled)[:max_frames].T.contiguous().numpy().astype(np.float32)


_cache: dict[tuple[str, str], Classifier] = {}
_cache_lock = threading.Lock()


def get_classifier(bundle_dir, device: str = "auto") -> Classifier:
    """Load once per process per (bundle_dir, device); later calls return the same instance."""
    key = (str(Path(bundle_dir).resolve()), str(resolve_device(device)))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Classifier.from_bundle(bundle_dir, key[1])
        return _cache[key]


def bundle_info(bundle_dir) -> dict:
    """Config, metrics and confusion-matrix path of a bundle, without loading weights."""
    bundle_dir = Path(bundle_dir).resolve()
    png = bundle_dir / CONFUSION_PNG
    return {"config": load_config(bundle_dir), "metrics": read_json(bundle_dir / METRICS, {}),
            "confusion_matrix_png": str(png) if png.is_file() else None}
