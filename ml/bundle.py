"""A model bundle: one folder with model.pth (state_dict), model_config.json, performance_metrics.json.

model_config.json is the single source of the sample rate, mel parameters, segment length,
labels and tags; everything else reads them from here.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .models import build_model

WEIGHTS = "model.pth"
CONFIG = "model_config.json"
METRICS = "performance_metrics.json"
CONFUSION_PNG = "confusion_matrix.png"
# The shipped bundle, for CLIs run from a checkout; the web side passes its own path.
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "models" / "saved_models"


def read_json(path: Path, default=None):
    path = Path(path)
    if not path.is_file():
        return default
    return json.loads(path.read_text())


def write_json(path: Path, data) -> None:
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)  # never leave a half-written file for a reader


def load_config(bundle_dir) -> dict:
    config = read_json(Path(bundle_dir) / CONFIG)
    if config is None:
        raise FileNotFoundError(f"no {CONFIG} in {bundle_dir}")
    return config


def save_bundle(bundle_dir, model: torch.nn.Module, config: dict) -> Path:
    """Write float32 weights and the config; returns the bundle folder."""
    bundle_dir = Path(bundle_dir)
    bundle_dir.mkdir(parents=True, exist_ok=True)
    state = {k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().contiguous()
             for k, v in model.state_dict().items()}
    tmp = bundle_dir / (WEIGHTS + ".tmp")
    torch.save(state, tmp)
    tmp.replace(bundle_dir / WEIGHTS)
    write_json(bundle_dir / CONFIG, config)
    return bundle_dir


def load_model(bundle_dir, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
    """The one loader: build the architecture from the config and load its weights, in eval mode."""
    bundle_dir = Path(bundle_dir)
    config = load_config(bundle_dir)
    model = build_model(config)
    state = torch.load(bundle_dir / config.get("weights", WEIGHTS), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.to(device).eval(), config
