"""Train a genre model and write its bundle.

    python -m ml.train --config ml/config/musicnn_head.yaml --data /path/to/labels.csv --out models/saved_models

``--data`` is any CSV with columns file,genre[,split] (paths relative to the CSV); ``--splits``
picks the rows to train on (rows without a split are always used). Early stopping uses an
inner hold-out of those rows, never the evaluation split.
"""
from __future__ import annotations

import argparse
import copy
import importlib.metadata
import importlib.util
import random
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from .audio import load_audio
from .augment import null_wave
from .bundle import save_bundle
from .bank import FeatureBank, eval_windows
from .checkpoint import read_checkpoint
from .features import segment_samples, to_batch
from .head import balanced_weights, fit_recipe, null_outputs, targets, train_view
from .sources import Clip, counts, file_digest, inner_holdout, read_clips, select, sources
from .inference import resolve_device
from .models import GenreFusion, build_model, load_tf_musicnn
from .models.efficientat import load_mn04


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # mixup draws from the global generator
    torch.manual_seed(seed)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def mixup(x: torch.Tensor, target: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend random pairs of inputs and their (soft) targets."""
    if alpha <= 0:
        return x, target
    lam = float(np.random.beta(alpha, alpha))
    perm = torch.randperm(len(x), device=x.device)
    return lam * x + (1 - lam) * x[perm], lam * target + (1 - lam) * target[perm]


def clip_scores(seg_logits: torch.Tensor, owner: np.ndarray, n_clips: int) -> torch.Tensor:
    """Clip-level probabilities = mean of segment softmaxes (as inference does)."""
    probs = torch.softmax(seg_logits, dim=1)
    out = torch.zeros(n_clips, probs.shape[1])
    out.index_add_(0, torch.as_tensor(owner), probs)
    return out / torch.as_tensor(np.bincount(owner, minlength=n_clips)).clamp_min(1)[:, None]


def holdout_metrics(probs: torch.Tensor, y: np.ndarray) -> dict:
    """Genre-balanced NLL (each genre weighs the same) and plain accuracy on hold-out clips."""
    nll = -torch.log(probs[torch.arange(len(y)), torch.as_tensor(y)].clamp_min(1e-7)).numpy()
    per_genre = [nll[y == g].mean() for g in np.unique(y)]
    return {"loss": float(np.mean(per_genre)), "acc": float((probs.argmax(1).numpy() == y).mean())}


class EarlyStopper:
    def __init__(self, patience: int):
        self.patience, self.best, self.best_epoch, self.state = patience, float("inf"), 0, None

    def update(self, epoch: int, loss: float, module: torch.nn.Module) -> bool:
        """Record the epoch; True when training should stop."""
        if loss < self.best - 1e-4:
            self.best, self.best_epoch, self.state = loss, epoch, copy.deepcopy(module.state_dict())
        return epoch - self.best_epoch >= self.patience


class Trainer:
    def __init__(self, cfg: dict, config: dict, model: torch.nn.Module, device, writer: SummaryWriter):
        self.cfg, self.config, self.model, self.device, self.writer = cfg, config, model, device, writer
        self.t = cfg["train"]
        self.feats = config["features"]
        self.n_samples = segment_samples(self.feats)
        self.label_index = {g: i for i, g in enumerate(config["labels"])}
        self.rng = np.random.default_rng(cfg["seed"])

    def load(self, clips: list[Clip]) -> list[np.ndarray]:
        return [load_audio(c.path, self.feats["sample_rate"]) for c in tqdm(clips, desc="decode", leave=False)]

    def gain(self, wave: np.ndarray) -> np.ndarray:
        lo, hi = self.t.get("gain_db", [0.0, 0.0])
        return (wave * 10 ** (self.rng.uniform(lo, hi) / 20)).astype(np.float32)

    def labels_of(self, clips: list[Clip]) -> np.ndarray:
        return np.array([self.label_index[c.genre] for c in clips])


class HeadTrainer(Trainer):
    """Frozen pretrained taggers: features of every crop are computed once, then only the head trains.

    With ``train.head_prior`` naming a tagger -> genre -> tags mapping in ``head_priors``, the
    linear head starts from the taggers' own tag layers (see MusiCNNGenre.tag_prior) and an L2-SP
    penalty pulls its weights toward that start instead of toward zero: with a handful of clips
    per genre, the pretrained tags carry more genre knowledge than the data can teach the head.
    """

    def __init__(self, cfg: dict, config: dict, model: torch.nn.Module, device, writer: SummaryWriter):
        super().__init__(cfg, config, model, device, writer)
        self.prior, self.prior_tags = None, None
        name = self.t.get("head_prior")
        if name:
            if not isinstance(model.head[-1], torch.nn.Linear) or len(model.head) != 2:
                raise SystemExit("head_prior needs the linear head (head_hidden: 0)")
            self.prior_tags = cfg["head_priors"][name]
            tags = {tagger: checkpoint_tags(tagger) for tagger in model.tagger_names}
            self.prior = model.tag_prior(config["labels"], tags, self.prior_tags).to(device)

    @torch.inference_mode()
    def embed(self, waves: list[np.ndarray], desc: str) -> torch.Tensor:
        self.model.eval()
        out = []
        bs = 32
        for i in tqdm(range(0, len(waves), bs), desc=desc, leave=False):
            out.append(self.model.features(to_batch(waves[i:i + bs], self.n_samples, self.device))["head_input"].float().cpu())
        return torch.cat(out)

    def crops(self, audio: list[np.ndarray], y: np.ndarray, n_null: int = 0) -> tuple[torch.Tensor, np.ndarray]:
        """Dense crops (random-crop augmentation precomputed), a random-gain copy of each,
        and ``n_null`` non-music crops labelled -1."""
        hop = int(self.t.get("crop_hop_s", 1.0) * self.feats["sample_rate"])
        waves, labels = [], []
        for wave, label in zip(audio, y):
            starts = range(0, max(len(wave) - self.n_samples, 0) + 1, hop)
            for s in starts:
                crop = wave[s:s + self.n_samples]
                waves += [crop, self.gain(crop)]
                labels += [label, label]
        waves += [null_wave(self.rng, self.n_samples) for _ in range(n_null)]
        labels += [-1] * n_null
        return self.embed(waves, "features"), np.array(labels)

    def windows(self, audio: list[np.ndarray]) -> tuple[torch.Tensor, np.ndarray]:
        waves, owner = [], []
        for i, wave in enumerate(audio):
            w = eval_windows(wave, self.feats)
            waves += w
            owner += [i] * len(w)
        return self.embed(waves, "hold-out features"), np.array(owner)

    def fit_head(self, X: torch.Tensor, y: np.ndarray, epochs: int, hold=None) -> int:
        head = self.model.head
        for m in head.modules():  # a fresh head for the search and again for the refit
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
        decay = self.t["weight_decay"]
        if self.prior is not None:
            head[-1].weight.data.copy_(self.prior)
            head[-1].bias.data.zero_()
            decay = 0.0  # the L2-SP term below replaces the pull toward zero
        opt = torch.optim.AdamW(head.parameters(), lr=self.t["lr"], weight_decay=decay)
        n_labels = len(self.label_index)
        sampler = torch.utils.data.WeightedRandomSampler(balanced_weights(y), len(y))
        Y = targets(y, n_labels)
        stopper = EarlyStopper(self.t["patience"])
        tag = "search" if hold is not None else "refit"
        for epoch in tqdm(range(1, epochs + 1), desc=f"head ({tag})"):
            head.train()
            idx = torch.as_tensor(list(sampler))
            total = 0.0
            for b in idx.split(self.t["batch_size"]):
                xb, yb = mixup(X[b].to(self.device), Y[b].to(self.device), self.t["mixup_alpha"])
                loss = soft_cross_entropy(head(xb), yb)
                if self.prior is not None:
                    loss = loss + self.t["prior_weight"] / 2 * (head[-1].weight - self.prior).pow(2).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(b)
            self.writer.add_scalar(f"{tag}/train_loss", total / len(idx), epoch)
            if hold is not None:
                Xh, owner, yh = hold
                head.eval()
                with torch.no_grad():
                    m = holdout_metrics(clip_scores(head(Xh.to(self.device)).cpu(), owner, len(yh)), yh)
                self.writer.add_scalar("search/holdout_loss", m["loss"], epoch)
                self.writer.add_scalar("search/holdout_acc", m["acc"], epoch)
                if stopper.update(epoch, m["loss"], head):
                    break
        if hold is not None:
            head.load_state_dict(stopper.state)
            return stopper.best_epoch
        return epochs

    def run(self, fit: list[Clip], hold: list[Clip]) -> dict:
        fit_audio, hold_audio = self.load(fit), self.load(hold)
        y_fit, y_hold = self.labels_of(fit), self.labels_of(hold)
        X_fit, yc_fit = self.crops(fit_audio, y_fit, self.t.get("null_crops", 0))
        info = {"crops_fit": len(yc_fit)}
        if self.prior_tags is not None:  # the recipe names the mapping; the bundle records the mapping itself
            info["head_prior_tags"] = self.prior_tags
        if hold:
            hold_windows = self.windows(hold_audio)
            if self.t.get("refit_on_all"):
                X_hold, yc_hold = self.crops(hold_audio, y_hold)
        # the head's matmuls are tiny: extra threads only add synchronisation (badly so on a busy host)
        torch.set_num_threads(1)
        if not hold:
            info.update(best_epoch=self.fit_head(X_fit, yc_fit, self.t["max_epochs"]))
            return info
        best = self.fit_head(X_fit, yc_fit, self.t["max_epochs"], hold=(*hold_windows, y_hold))
        info.update(best_epoch=best)
        if self.t.get("refit_on_all"):
            self.fit_head(torch.cat([X_fit, X_hold]), np.concatenate([yc_fit, yc_hold]), best)
            info.update(refit_on_all=True)
        return info


class FullTrainer(Trainer):
    """End-to-end training on random crops drawn on the fly (scratch baseline)."""

    def batch(self, audio, y, weights):
        """Class-balanced random crops at random gains; with null_fraction, some non-music crops."""
        idx = torch.multinomial(weights, self.t["batch_size"], replacement=True).numpy()
        labels = y[idx].copy()
        labels[self.rng.random(len(idx)) < self.t.get("null_fraction", 0.0)] = -1
        waves = []
        for i, label in zip(idx, labels):
            wave = audio[i]
            s = self.rng.integers(0, max(len(wave) - self.n_samples, 0) + 1)
            waves.append(self.gain(wave[s:s + self.n_samples]) if label >= 0 else null_wave(self.rng, self.n_samples))
        return to_batch(waves, self.n_samples, self.device), targets(labels, len(self.label_index)).to(self.device)

    @torch.no_grad()
    def evaluate(self, audio, y) -> dict:
        self.model.eval()
        logits, owner = [], []
        for i, wave in enumerate(audio):
            w = eval_windows(wave, self.feats)
            logits.append(self.model(to_batch(w, self.n_samples, self.device))["logits"].cpu())
            owner += [i] * len(w)
        return holdout_metrics(clip_scores(torch.cat(logits), np.array(owner), len(y)), y)

    def run(self, fit: list[Clip], hold: list[Clip]) -> dict:
        fit_audio, hold_audio = self.load(fit), self.load(hold)
        y_fit, y_hold = self.labels_of(fit), self.labels_of(hold)
        weights = balanced_weights(y_fit)
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.t["lr"], weight_decay=self.t["weight_decay"])
        stopper = EarlyStopper(self.t["patience"])
        for epoch in tqdm(range(1, self.t["max_epochs"] + 1), desc="epochs"):
            self.model.train()
            total = 0.0
            for _ in range(self.t["steps_per_epoch"]):
                x, yb = self.batch(fit_audio, y_fit, weights)
                xb, yb = mixup(x, yb, self.t["mixup_alpha"])
                loss = soft_cross_entropy(self.model(xb)["logits"], yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item()
            self.writer.add_scalar("train/loss", total / self.t["steps_per_epoch"], epoch)
            if hold:
                m = self.evaluate(hold_audio, y_hold)
                self.writer.add_scalar("holdout/loss", m["loss"], epoch)
                self.writer.add_scalar("holdout/acc", m["acc"], epoch)
                if stopper.update(epoch, m["loss"], self.model):
                    break
        if stopper.state is not None:
            self.model.load_state_dict(stopper.state)
        return {"best_epoch": stopper.best_epoch or self.t["max_epochs"]}


def pretrained_start(cfg: dict, model: torch.nn.Module, efficientat: str | None = None) -> dict:
    """Load every pretrained backbone the model names; returns what the bundle records."""
    pre = cfg["pretrained"]
    spec = importlib.util.find_spec(pre["package"])
    if spec is None:
        raise SystemExit(f"the {pre['package']} package is needed to start from its pretrained weights")
    root = Path(spec.origin).parent
    for name, net in model.taggers().items():
        load_tf_musicnn(net, read_checkpoint(f"{root / name}/"))
    record = {"checkpoints": list(model.tagger_names), **{k: v for k, v in pre.items() if k != "package"}}
    if isinstance(model, GenreFusion):
        path = efficientat_checkpoint(cfg, efficientat)
        model.effat.load_state_dict(load_mn04(path).state_dict())
        record.update(efficientat=str(pre["efficientat"]["source"]), efficientat_sha256_16=file_digest(path))
    return record


def efficientat_checkpoint(cfg: dict, override: str | None) -> Path:
    """The EfficientAT checkpoint file: --efficientat, else the config's path (relative to the
    working directory); it is read from disk, never downloaded."""
    pre = cfg["pretrained"]["efficientat"]
    path = Path(override or pre["checkpoint"])
    if not path.is_file():
        raise SystemExit(f"EfficientAT weights not found at {path} (give --efficientat PATH)")
    return path


def checkpoint_tags(checkpoint: str) -> list[str]:
    """A musicnn checkpoint's tag names (MSD_musicnn -> MSD_LABELS); importing them needs no TensorFlow."""
    from musicnn import configuration
    return list(getattr(configuration, checkpoint.split("_")[0] + "_LABELS"))


def pretrained_tags(cfg: dict) -> list[str]:
    """The primary tagger's tag names, copied into the bundle: the model's ``tags`` output."""
    if "pretrained" not in cfg:
        return []
    taggers = cfg["architecture"].get("params", {}).get("taggers")
    if not taggers:
        raise SystemExit("architecture.params.taggers must name the pretrained checkpoints to start from")
    return checkpoint_tags(taggers[0])


def write_licence(cfg: dict, out: Path, efficientat: str | None = None) -> None:
    """The licences of the pretrained weights travel with the bundle (ISC for MusiCNN, MIT for EfficientAT)."""
    pre = cfg.get("pretrained")
    if not pre:
        return
    text = importlib.metadata.distribution(pre["package"]).read_text("LICENSE.md") or ""
    header = (f"The pretrained weights in model.pth derive from {pre['source']}.\n"
              "They are redistributed under the original ISC licence:\n\n")
    (out / pre["licence_file"]).write_text(header + text.strip() + "\n")
    if "efficientat" in pre:
        eat = pre["efficientat"]
        licence = efficientat_checkpoint(cfg, efficientat).parent / "LICENSE"
        (out / eat["licence_file"]).write_text(
            f"The EfficientAT weights in model.pth derive from {eat['source']}.\nThey are redistributed under "
            f"the original MIT licence:\n\n{licence.read_text().strip()}\n\n{eat['attribution']}\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="ml/config/<name>.yaml")
    ap.add_argument("--data", required=True, nargs="+", help="CSVs with file,genre[,split,source,artist]")
    ap.add_argument("--out", required=True, help="bundle folder to write")
    ap.add_argument("--splits", default=None, help="comma-separated splits to train on (default: config train.splits)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--runs", default="runs", help="TensorBoard log root")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default; 1 wins on a busy host)")
    ap.add_argument("--cache", default=None, help="fusion models: folder caching backbone outputs between runs")
    ap.add_argument("--efficientat", default=None, help="EfficientAT checkpoint (default: the config's path)")
    args = ap.parse_args(argv)

    cfg = yaml.safe_load(Path(args.config).read_text())
    seed_everything(cfg["seed"])
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    t = cfg["train"]
    splits = args.splits.split(",") if args.splits else t.get("splits")

    clips = read_clips(*args.data)
    labels = cfg.get("labels") or sorted({c.genre for c in clips})
    train_clips = select(clips, splits)
    unknown = {c.genre for c in train_clips} - set(labels)
    if unknown:
        raise SystemExit(f"genres not in the label list: {sorted(unknown)}")
    fusion = cfg["architecture"]["name"] == "fusion_genre"
    # the fusion head is fitted to convergence under its L2 pull: no early stopping, no hold-out
    fit, hold = (train_clips, []) if fusion else inner_holdout(train_clips, t.get("holdout_fraction", 0.2))

    stamp = datetime.now(timezone.utc)
    config = {
        "name": cfg["name"],
        "version": f"{cfg['name']}-{stamp:%Y%m%d.%H%M%S}",
        "architecture": cfg["architecture"],
        "features": cfg["features"],
        "labels": labels,
        "tags": pretrained_tags(cfg),
        "weights": "model.pth",
    }
    model = build_model(config)
    pretrained = pretrained_start(cfg, model, args.efficientat) if "pretrained" in cfg else None
    model.to(device)

    run_dir = Path(args.runs) / f"{cfg['name']}-{stamp:%Y%m%d-%H%M%S}"
    writer = SummaryWriter(str(run_dir))
    t0 = time.perf_counter()
    if fusion:
        bank = FeatureBank(model, config, device, args.cache, identity=pretrained)
        index = {g: i for i, g in enumerate(labels)}
        info = fit_recipe(model, bank.outputs(fit, train_view(t, cfg["seed"])), [index[c.genre] for c in fit],
                          null_outputs(bank, t, cfg["seed"]), t)
    else:
        trainer_cls = HeadTrainer if cfg["architecture"]["name"] == "musicnn_genre" else FullTrainer
        info = trainer_cls(cfg, config, model, device, writer).run(fit, hold)
    writer.close()

    config["training"] = {
        "recipe": t, "seed": cfg["seed"], "device": str(device), **info,
        "minutes": round((time.perf_counter() - t0) / 60, 2), "trained_at": stamp.isoformat(timespec="seconds"),
        "config_file": Path(args.config).name, "tensorboard_run": run_dir.name,
    }
    for key in ("zero_shot_tags", "style_tags"):  # the zero-shot baseline's mapping; style hints for inference
        if cfg.get(key):
            config[key] = cfg[key]
    if cfg.get("model_selection"):  # how the recipe was chosen, so its scores are read with that in mind
        config["training"]["model_selection"] = cfg["model_selection"]
    config["data"] = {
        "files": [Path(d).name for d in args.data], "sha256_16": file_digest(*args.data), "splits": splits,
        "file_digests": {Path(d).name: file_digest(d) for d in args.data},
        "sources": {src: counts([c for c in train_clips if c.source == src]) for src in sources(train_clips)},
        "clips_fit": counts(fit), "clips_early_stopping": counts(hold),
    }
    if hold:
        config["data"]["early_stopping"] = "inner hold-out of the training rows (last contiguous ids per genre)"
    if pretrained:
        config["pretrained"] = pretrained
    out = Path(args.out)
    save_bundle(out, model, config)
    write_licence(cfg, out, args.efficientat)
    print(f"wrote {out} ({config['version']}); {info}")


if __name__ == "__main__":
    main()
