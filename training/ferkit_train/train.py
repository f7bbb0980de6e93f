"""Train an expression model on FER2013 Training, select on PublicTest.

    python3 -m ferkit_train.train --train ../../shared/data/fer2013/train.bin \
        --val ../../shared/data/fer2013/publictest.bin --arch resnet --out runs/resnet

The schedule runs on progress p = max(step / total_steps, elapsed / time_budget), so a
--time-budget run still anneals fully and ends on time instead of stopping at a high LR.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import os
import random
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from . import LABELS
from .augment import AugmentOptions, augment, flip
from .corrupt import CorruptOptions, corrupt
from .data import FerData, load
from .metrics import softmax, summarize
from .models import build, count_macs, count_params

MODEL_KEYS = ["arch", "widths", "depths", "block", "stem_width", "stem_stride", "vgg_cfg", "dropout"]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ferkit_train.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help="Training data: .bin, fer2013.csv (Usage=Training) or image folder")
    p.add_argument("--val", required=True, help="Validation data (PublicTest): .bin, fer2013.csv (Usage=PublicTest) or folder")
    p.add_argument("--out", required=True, help="run folder: checkpoints, log.csv, log.json")
    m = p.add_argument_group("model")
    m.add_argument("--arch", choices=["resnet", "vgg"], default="resnet")
    m.add_argument("--widths", default="32,64,128,256", help="ResNet stage widths")
    m.add_argument("--depths", default="1,1,2,1", help="ResNet blocks per stage")
    m.add_argument("--block", choices=["basic", "bottleneck"], default="basic")
    m.add_argument("--stem-width", type=int, default=32)
    m.add_argument("--stem-stride", type=int, default=2)
    m.add_argument("--vgg-cfg", default="", help="VGG layers, e.g. 32,M,64,64,M,128,128,M,256,256")
    m.add_argument("--dropout", type=float, default=0.3)
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--optimizer", choices=["sgd", "adamw"], default="sgd")
    t.add_argument("--lr", type=float, default=0.1, help="peak learning rate")
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--warmup", type=float, default=0.05, help="fraction of progress spent warming up")
    t.add_argument("--label-smoothing", type=float, default=0.0)
    t.add_argument("--ferplus-mix", type=float, default=0.0, help="blend weight of FER+ vote distributions into targets")
    t.add_argument("--class-weight", choices=["none", "sqrt", "inverse"], default="sqrt", help="loss weights against imbalance")
    t.add_argument("--erase-p", type=float, default=0.5)
    t.add_argument("--rotate", type=float, default=15.0)
    t.add_argument("--corrupt-p", type=float, default=0.0,
                   help="probability of one training-time corruption per face (noise, blur, low resolution, light, lower-face mask: corrupt.py); 0 = off")
    t.add_argument("--time-budget", type=float, default=0.0, help="minutes; 0 = no limit")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    t.add_argument("--device", default="auto", help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N")
    t.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="training arithmetic: bf16 runs the forward and backward passes under bfloat16 autocast (about 2x faster on CPUs "
                        "with AVX512-BF16, and on recent GPUs); weights, optimizer and evaluation stay fp32")
    t.add_argument("--limit-train", type=int, default=0, help="use a random subset (smoke tests)")
    t.add_argument("--limit-val", type=int, default=0)
    t.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    t.add_argument("--init", default="", help="start from this checkpoint's weights (same architecture; the raw weights when it holds an average too) with a fresh optimizer and schedule: a warm restart")
    t.add_argument("--ema", type=float, default=0.0, help="evaluate, select and save an exponential moving average of the weights with this decay per step (0 = off)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    t.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


class Progress:
    """A one-line progress bar with rate and ETA on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.last = 0.0

    def update(self, text: str, frac: float, eta_s: float) -> None:
        now = time.time()
        if not self.enabled or now - self.last < 0.5:
            return
        self.last = now
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r[{bar:<30}] {frac * 100:5.1f}% {text} ETA {int(eta_s) // 60}m{int(eta_s) % 60:02d}s ")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def targets(data: FerData, idx: np.ndarray, ferplus_mix: float, smoothing: float) -> torch.Tensor:
    k = len(LABELS)
    onehot = np.eye(k, dtype=np.float32)[data.labels[idx]]
    if ferplus_mix > 0 and data.ferplus is not None:
        fp = data.ferplus[idx]
        has = fp.sum(1, keepdims=True) > 0
        onehot = np.where(has, (1 - ferplus_mix) * onehot + ferplus_mix * fp, onehot)
    if smoothing > 0:
        onehot = (1 - smoothing) * onehot + smoothing / k
    return torch.from_numpy(onehot)


def class_weights(labels: np.ndarray, mode: str) -> torch.Tensor:
    counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float64) + 1
    w = {"none": np.ones_like(counts), "sqrt": 1 / np.sqrt(counts), "inverse": 1 / counts}[mode]
    w = w / (w * counts).sum() * counts.sum()  # mean weight over the data is 1
    return torch.tensor(w, dtype=torch.float32)


def lr_at(p: float, peak: float, warmup: float) -> float:
    if p < warmup:
        return peak * (0.1 + 0.9 * p / warmup)
    q = (p - warmup) / max(1 - warmup, 1e-9)
    return peak * 0.5 * (1 + math.cos(math.pi * min(q, 1.0)))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: this PyTorch has no usable CUDA device")
    return device


def raw_weights(ck: Dict) -> Dict:
    """A checkpoint's raw training weights. An --ema run's checkpoints hold the average as "model"
    and, in last.pt, the raw weights as "train_model"; other checkpoints hold only "model"."""
    return ck.get("train_model", ck["model"])


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images: np.ndarray, tta: bool, batch: int = 512) -> np.ndarray:
    """Logits for uint8 images; with tta, the mean of the image's and its mirror's logits."""
    model.eval()
    first = next(model.parameters(), None)  # an int8 model keeps its weights packed, outside parameters()
    device = first.device if first is not None else torch.device("cpu")
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).float().unsqueeze(1).to(device)
        z = model(x)
        if tta:
            z = (z + model(flip(x))) / 2
        out.append(z.cpu().numpy())
    return np.concatenate(out)


def main(argv: Optional[List[str]] = None) -> Dict:
    a = parse_args(argv)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    device = resolve_device(a.device)
    os.makedirs(a.out, exist_ok=True)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)

    train, val = load(a.train, "Training", a.limit_train, a.seed), load(a.val, "PublicTest", a.limit_val, a.seed)
    print(f"train {len(train)} from {train.source} | val {len(val)} from {val.source}", flush=True)

    model = build(a.arch, a.widths, a.depths, a.block, a.stem_width, a.stem_stride, a.vgg_cfg, a.dropout)
    params, macs = count_params(model), count_macs(model)
    print(f"{a.arch}: {params / 1e6:.2f} M parameters, {macs / 1e6:.1f} M MACs per face, on {device}", flush=True)
    config = {k: getattr(a, k) for k in MODEL_KEYS}
    lineage: List[Dict] = []
    if a.init:
        if not os.path.isfile(a.init):
            raise SystemExit(f"--init: {a.init} not found")
        init_ck = torch.load(a.init, map_location="cpu")
        if "soup" in init_ck:  # its card could not name one chain of runs to reproduce it
            raise SystemExit(f"--init: {a.init} is a weight average (ferkit_train.soup); warm-start from one of its members")
        if "imported" in init_ck:  # its BatchNorms are folded away: nothing to normalise a warm restart by
            raise SystemExit(f"--init: {a.init} was rebuilt from {init_ck['imported']['onnx']} (ferkit_train.from_onnx) for evaluation only; warm-start from a training checkpoint")
        if init_ck["config"] != config:
            raise SystemExit(f"--init: {a.init} has architecture {init_ck['config']}, not this run's")
        # A restart continues from the raw weights, which are the ones --raw-weights exports.
        model.load_state_dict(raw_weights(init_ck))
        # The card must name every run the weights came through, or its command reproduces nothing.
        lineage = init_ck.get("lineage", []) + [{"args": init_ck["args"], "epochs": init_ck["state"]["epoch"], "checkpoint": a.init}]
        which = "raw weights" if "train_model" in init_ck else "weights"
        print(f"initialised from {a.init}'s {which} (epoch {init_ck['state']['epoch']}; its best PublicTest TTA {init_ck['state']['best']:.4f})", flush=True)
    model.to(device)
    ema = copy.deepcopy(model).requires_grad_(False) if a.ema else None
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    opt = (
        torch.optim.SGD(groups, lr=a.lr, momentum=0.9, nesterov=True)
        if a.optimizer == "sgd"
        else torch.optim.AdamW(groups, lr=a.lr)
    )
    cw = class_weights(train.labels, a.class_weight).to(device)
    aug = AugmentOptions(rotate_deg=a.rotate, erase_p=a.erase_p)
    corruption = CorruptOptions(p=a.corrupt_p)

    steps_per_epoch = math.ceil(len(train) / a.batch_size)
    total_steps = a.max_steps or steps_per_epoch * a.epochs
    state = {"step": 0, "epoch": 0, "elapsed": 0.0, "best": -1.0, "log": []}
    last_path, best_path = os.path.join(a.out, "last.pt"), os.path.join(a.out, "best.pt")
    if a.resume:
        if not os.path.isfile(last_path):
            raise SystemExit(f"--resume: {last_path} not found")
        ck = torch.load(last_path, map_location=device)
        model.load_state_dict(raw_weights(ck))
        if ema is not None:
            ema.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        torch.set_rng_state(ck["rng"].cpu())
        print(f"resumed at epoch {state['epoch']}, step {state['step']}", flush=True)

    g = torch.Generator().manual_seed(a.seed * 1000 + state["epoch"])
    budget_s = a.time_budget * 60
    prog = Progress(not a.no_progress)
    start = time.time() - state["elapsed"]

    def progress() -> float:
        p = state["step"] / total_steps
        if budget_s:
            p = max(p, (time.time() - start) / budget_s)
        return p

    while progress() < 1.0:
        model.train()
        perm = np.random.default_rng(a.seed * 7919 + state["epoch"]).permutation(len(train))
        seen, loss_sum, correct = 0, 0.0, 0
        for b in range(steps_per_epoch):
            p = progress()
            if p >= 1.0:
                break
            idx = perm[b * a.batch_size : (b + 1) * a.batch_size]
            x = corrupt(augment(torch.from_numpy(train.images[idx]).float().unsqueeze(1).to(device), aug, g), corruption, g)
            y = targets(train, idx, a.ferplus_mix, a.label_smoothing).to(device)
            for group in opt.param_groups:
                group["lr"] = lr_at(p, a.lr, a.warmup)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.precision == "bf16"):
                logits = model(x).float()
            per_sample = -(y * F.log_softmax(logits, 1)).sum(1)
            loss = (per_sample * cw[torch.from_numpy(train.labels[idx]).to(device)]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema is not None:
                update_ema(ema, model, a.ema, state["step"])
            state["step"] += 1
            seen += len(idx)
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1).cpu().numpy() == train.labels[idx]).sum())
            el = time.time() - start
            pn = progress()
            prog.update(f"ep {state['epoch'] + 1} loss {loss_sum / seen:.3f} acc {correct / seen:.3f} lr {opt.param_groups[0]['lr']:.4f}",
                        pn, el / max(pn, 1e-9) - el)
        prog.done()
        state["epoch"] += 1
        state["elapsed"] = time.time() - start
        chosen = ema if ema is not None else model
        val_logits = predict_logits(chosen, val.images, tta=False)
        val_logits_tta = predict_logits(chosen, val.images, tta=True)
        plain, tta = summarize(softmax(val_logits), val.labels), summarize(softmax(val_logits_tta), val.labels)
        row = {
            "epoch": state["epoch"], "step": state["step"], "elapsed_s": round(state["elapsed"], 1),
            "lr": opt.param_groups[0]["lr"], "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
            "val_acc": plain["accuracy"], "val_acc_tta": tta["accuracy"], "val_macro_f1_tta": tta["macroF1"],
        }
        if ema is not None:  # what the average buys over the raw weights, epoch by epoch
            row["val_acc_tta_raw"] = summarize(softmax(predict_logits(model, val.images, tta=True)), val.labels)["accuracy"]
        state["log"].append(row)
        print(json.dumps(row), flush=True)
        ck = {"model": chosen.state_dict(), "config": config, "state": state, "args": vars(a), "params": params, "macs": macs,
              "lineage": lineage}
        if tta["accuracy"] > state["best"]:
            state["best"] = tta["accuracy"]
            torch.save(ck, best_path)
        extra = {"train_model": model.state_dict()} if ema is not None else {}
        torch.save({**ck, **extra, "opt": opt.state_dict(), "rng": torch.get_rng_state()}, last_path)
        _write_logs(a.out, state["log"])
        if a.max_steps and state["step"] >= a.max_steps:
            break
    print(f"done: best PublicTest accuracy (flip TTA) {state['best']:.4f}; checkpoint {best_path}", flush=True)
    return state


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float, step: int) -> None:
    """ema ← d·ema + (1−d)·model over parameters and BatchNorm statistics; d ramps up so early
    steps don't average in the initial weights for long."""
    d = min(decay, (1 + step) / (10 + step))
    for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
        if e.dtype.is_floating_point:
            e.mul_(d).add_(m, alpha=1 - d)
        else:
            e.copy_(m)


def _write_logs(out: str, log: List[Dict]) -> None:
    with open(os.path.join(out, "log.json"), "w") as f:
        json.dump(log, f, indent=1)
    with open(os.path.join(out, "log.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(log[0].keys()))
        w.writeheader()
        w.writerows(log)


if __name__ == "__main__":
    main()
