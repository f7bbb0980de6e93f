"""Train ferkit's 68-point landmark model on HELEN's training faces with ferkit's detector boxes.

    python3 -m ferkit_train.landmarks.train --data ../../shared/data/helen-train \
        --boxes data/helen-train.boxes.json --init-faceapi ../.cache/models/face_landmark_68.onnx \
        --out runs/lm1 --epochs 150 --precision bf16

Selection is on a fixed 10 % holdout of HELEN's photos (never AFW: AFW is the reported test set,
measured by `ferkit bench afw`). Every epoch writes OUT/last.pt (resumable with --resume), OUT/best.pt
(lowest holdout NME) and a row of OUT/log.csv.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..export import invocation
from ..train import update_ema
from .data import Augment, LandmarkSet, load_set, make_batch, split_holdout
from .net import FACEAPI_WIDTHS, LandmarkNet, count_params, load_checkpoint, load_faceapi_weights
from .prune import prune_landmark_net


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ferkit_train.landmarks.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with landmarks68.json and its photos (one face each)")
    p.add_argument("--boxes", required=True, help="detector boxes for those photos (training/tools/detector-boxes.mjs)")
    p.add_argument("--out", required=True)
    p.add_argument("--widths", default=",".join(map(str, FACEAPI_WIDTHS)))
    p.add_argument("--init-faceapi", default="", help="start from face-api's weights in ferkit's converted face_landmark_68.onnx")
    p.add_argument("--init-checkpoint", default="",
                   help="start from a landmark checkpoint's weights (best.pt); pruned to --widths when narrower (prune.py)")
    p.add_argument("--holdout", type=float, default=0.1, help="fraction of photos held out for selection")
    p.add_argument("--epochs", type=int, default=150)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup", type=float, default=0.03)
    p.add_argument("--rotate", type=float, default=30.0)
    p.add_argument("--occlude", type=float, default=0.35)
    p.add_argument("--ema", type=float, default=0.998)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="use only the first N photos (smoke tests)")
    p.add_argument("--max-steps", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    return p.parse_args(argv)


def init_from_checkpoint(path: str, widths) -> Tuple[LandmarkNet, Dict]:
    """The checkpoint's network (its weight average as saved in best.pt), pruned to `widths` if narrower,
    and its lineage (what export.py writes on the card: the parent's command, widths and holdout)."""
    net, ck = load_checkpoint(path)
    parent = {"checkpoint": path, "widths": list(ck["widths"]), "command": invocation("ferkit_train.landmarks.train", ck.get("argv")),
              "holdout": ck.get("holdout"), "parent": ck.get("parent")}
    return (net if tuple(ck["widths"]) == tuple(widths) else prune_landmark_net(net, widths)), parent


def nme(pred: torch.Tensor, target: torch.Tensor, iod: torch.Tensor) -> torch.Tensor:
    """Per-face mean point error over the outer-eye-corner distance (the 300-W / AFW convention)."""
    return (pred.view(-1, 68, 2) - target).norm(dim=-1).mean(dim=-1) / iod


@torch.no_grad()
def evaluate(model: torch.nn.Module, ds: LandmarkSet, batch: int = 64) -> np.ndarray:
    model.eval()
    out = []
    for s in range(0, len(ds.names), batch):
        idx = torch.arange(s, min(s + batch, len(ds.names)))
        x, y, iod = make_batch(ds, idx, None, None)
        out.append(nme(model(x), y, iod))
    return torch.cat(out).numpy()


def lr_at(p: float, peak: float, warmup: float) -> float:
    if p < warmup:
        return peak * p / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * (p - warmup) / (1 - warmup)))


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    ds = load_set(args.data, args.boxes, args.limit)
    tr_idx, ho_idx = split_holdout(ds.names, args.holdout)
    train, hold = ds.subset(tr_idx), ds.subset(ho_idx)
    widths = tuple(int(w) for w in args.widths.split(","))
    model = LandmarkNet(widths)
    if args.init_faceapi and args.init_checkpoint:
        raise SystemExit("--init-faceapi and --init-checkpoint exclude each other")
    if args.init_faceapi:
        load_faceapi_weights(model, args.init_faceapi)
    parent = None
    if args.init_checkpoint:
        model, parent = init_from_checkpoint(args.init_checkpoint, widths)
    ema = LandmarkNet(widths)
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    aug = Augment(rotate=args.rotate, occlude=args.occlude)
    gen = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = max(1, len(train.names) // args.batch_size)
    total = steps_per_epoch * args.epochs
    start_epoch, step, best, log = 0, 0, math.inf, []
    last = os.path.join(args.out, "last.pt")
    if args.resume and os.path.exists(last):
        ck = torch.load(last, weights_only=False)
        model.load_state_dict(ck["model"]); ema.load_state_dict(ck["ema"]); opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"]); start_epoch, step, best, log = ck["epoch"] + 1, ck["step"], ck["best"], ck["log"]
    elif start_epoch == 0 and (args.init_faceapi or args.init_checkpoint):
        init = evaluate(model, hold)
        print(f"initial weights on the holdout: NME median {np.median(init):.4f} mean {init.mean():.4f}", flush=True)
    print(f"{count_params(model)} parameters; {len(train.names)} training / {len(hold.names)} holdout faces; "
          f"{steps_per_epoch} steps per epoch", flush=True)
    cast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")
    for epoch in range(start_epoch, args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(train.names), generator=gen)
        losses = []
        for k in range(steps_per_epoch):
            if args.max_steps and step >= args.max_steps:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(step / total, args.lr, args.warmup)
            idx = perm[k * args.batch_size:(k + 1) * args.batch_size]
            x, y, iod = make_batch(train, idx, aug, gen)
            with cast:
                pred = model(x)
            err = (pred.float().view(-1, 68, 2) - y) / iod.view(-1, 1, 1)
            loss = err.abs().mean()  # L1 in inter-ocular units
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            with torch.no_grad():
                update_ema(ema, model, args.ema, step)
            losses.append(float(loss))
        h = evaluate(ema, hold)
        row = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else math.nan, "holdout_nme_median": float(np.median(h)),
               "holdout_nme_mean": float(h.mean()), "lr": opt.param_groups[0]["lr"], "seconds": round(time.time() - t0, 1)}
        log.append(row)
        if row["holdout_nme_mean"] < best:
            best = row["holdout_nme_mean"]
            torch.save({"model": ema.state_dict(), "widths": widths, "epoch": epoch, "holdout": row, "args": vars(args),
                        "argv": sys.argv[1:] if argv is None else argv, "parent": parent}, os.path.join(args.out, "best.pt"))
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "epoch": epoch, "step": step, "best": best, "log": log, "widths": widths, "args": vars(args)}, last + ".tmp")
        os.replace(last + ".tmp", last)
        with open(os.path.join(args.out, "log.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(log[0]))
            w.writeheader(); w.writerows(log)
        print(f"epoch {epoch + 1}/{args.epochs} loss {row['loss']:.4f} holdout NME median {row['holdout_nme_median']:.4f} "
              f"mean {row['holdout_nme_mean']:.4f} ({row['seconds']} s)", flush=True)
        if args.max_steps and step >= args.max_steps:
            break
    return {"best_holdout_nme_mean": best, "epochs": len(log)}


if __name__ == "__main__":
    print(json.dumps(main()))
