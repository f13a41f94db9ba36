"""Frozen backbone outputs of labelled clips, computed once and cached on disk.

The fusion model's backbones never train, so every recipe, fold and baseline can share one pass
over the audio: a bank holds, per clip, every backbone output (AudioSet logits, embeddings, tags)
of its windows. Two views of a clip:

- ``eval``: exactly the windows inference analyses (``plan_windows`` over the whole clip), so
  held-out scores mirror what the product predicts;
- ``train``: crops every ``hop_s`` seconds, each clean and in ``copies`` recording-chain
  variants (``ml.augment``), drawn from a generator seeded by the clip, so a cache hit and a
  fresh computation agree.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .audio import load_audio
from .augment import random_chain
from .features import fit_length, plan_windows, segment_samples, to_batch
from .sources import Clip

EVAL = {"kind": "eval"}
BATCH = 32


def eval_windows(wave: np.ndarray, feats: dict) -> list[np.ndarray]:
    """The windows inference analyses for a whole decoded clip."""
    sr = feats["sample_rate"]
    wins = plan_windows(len(wave) / sr, segment_samples(feats) / sr, feats.get("max_segments"))
    return [wave[int(s * sr):int(e * sr)] for s, e in wins]


def train_windows(wave: np.ndarray, feats: dict, view: dict, rng: np.random.Generator) -> list[np.ndarray]:
    """Dense crops, each clean and in ``view["copies"]`` augmented variants."""
    n, sr = segment_samples(feats), feats["sample_rate"]
    hop = int(view.get("hop_s", 3.0) * sr)
    out = []
    for start in range(0, max(len(wave) - n, 0) + 1, hop):
        crop = np.ascontiguousarray(fit_length(torch.from_numpy(wave[start:start + n]), n).numpy())
        out.append(crop)
        out += [random_chain(crop, sr, rng, names=view.get("augment"), p=view.get("p", 0.5))
                for _ in range(view.get("copies", 0))]
    return out


class FeatureBank:
    """Backbone outputs per clip and view: ``outputs(clips, view)`` -> one dict of
    name -> (windows, dim) float32 arrays per clip. ``cache`` (a folder) keeps them between runs."""

    def __init__(self, model: torch.nn.Module, config: dict, device, cache: Path | None = None,
                 identity: dict | None = None):
        self.model, self.feats, self.device = model.eval(), config["features"], device
        self.cache = Path(cache) if cache else None
        # What the outputs depend on besides the clip and the view: front ends, backbones, weights.
        arch = {k: v for k, v in config["architecture"]["params"].items() if k not in ("head_inputs", "prior", "prior_rule")}
        self.identity = json.dumps({"features": self.feats, "backbones": arch, **(identity or {})}, sort_keys=True)

    def _path(self, clip: Clip, view: dict) -> Path | None:
        if self.cache is None:
            return None
        st = clip.path.stat()
        key = json.dumps([self.identity, view, str(clip.path), st.st_size, st.st_mtime_ns], sort_keys=True)
        return self.cache / f"{hashlib.sha1(key.encode()).hexdigest()}.npz"

    @torch.inference_mode()
    def run(self, waves: list[np.ndarray]) -> dict[str, np.ndarray]:
        """Backbone outputs of mono windows at the bundle's rate, stacked in order."""
        n = segment_samples(self.feats)
        parts: dict[str, list[np.ndarray]] = {}
        for i in range(0, len(waves), BATCH):
            for name, value in self.model.backbones(to_batch(waves[i:i + BATCH], n, self.device)).items():
                parts.setdefault(name, []).append(value.float().cpu().numpy())
        return {name: np.concatenate(v) for name, v in parts.items()}

    def windows(self, clip: Clip, view: dict) -> list[np.ndarray]:
        wave = load_audio(clip.path, self.feats["sample_rate"])
        if view["kind"] == "eval":
            return eval_windows(wave, self.feats)
        rng = np.random.default_rng([view.get("seed", 0), zlib.crc32(str(clip.path).encode())])
        return train_windows(wave, self.feats, view, rng)

    def outputs(self, clips: list[Clip], view: dict = EVAL) -> list[dict[str, np.ndarray]]:
        out = []
        for clip in tqdm(clips, desc=f"backbones ({view['kind']})", leave=False):
            path = self._path(clip, view)
            if path is not None and path.is_file():
                with np.load(path) as z:
                    out.append(dict(z))
                continue
            result = self.run(self.windows(clip, view))
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npz")
                np.savez(tmp, **result)
                tmp.replace(path)
            out.append(result)
        return out
