"""Average the weights of several checkpoints of one architecture into one network: a uniform
"model soup" (Wortsman et al., ICML 2022). Runs warm-started from one parent stay in one basin of
the loss, so the average of their weights can score like an ensemble of them at the cost of a
single network; checkpoints that do not share a parent usually average into nonsense, so measure
(--val) before exporting.

    python3 -m ferkit_train.soup --checkpoint runs/resnet-w40c/best.pt runs/resnet-w40c/last.pt:raw \
        runs/resnet-w40b/best.pt --out runs/soup-w40.pt --val ../../shared/data/fer2013/publictest.bin

A ':raw' suffix takes an --ema run's raw weights, as in export.py. The result is a checkpoint that
export.py, compare.py, ensemble_study.py and tta_study.py take like any other; its card records every
member and the runs behind it. BatchNorm statistics are averaged like the weights: recomputing them
on un-augmented Training faces measured worse (69.49 % against 69.88 % for run 6-8's soup).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict, List, Optional

import torch

from .data import load
from .export import Member, invocation, load_member, training_record
from .train import predict_logits


def average_state_dicts(state_dicts: List[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
    """The element-wise mean of floating-point tensors; integer buffers (BatchNorm's step counters)
    are not weights and are taken from the first."""
    if not state_dicts:
        raise ValueError("a soup needs at least one state dict")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if sd.keys() != first.keys() or any(sd[k].shape != first[k].shape for k in first):
            raise ValueError("state dicts of different architectures cannot be averaged")
    return {
        k: torch.stack([sd[k].float() for sd in state_dicts]).mean(0).to(v.dtype) if v.is_floating_point() else v.clone()
        for k, v in first.items()
    }


def soup_checkpoint(members: List[Member], command: str) -> Dict:
    """A checkpoint holding the members' averaged weights and, for the card, how each was made."""
    config = members[0].checkpoint["config"]
    for m in members:
        if "imported" in m.checkpoint:  # folded BatchNorms: averaging them with unfolded ones is meaningless
            raise SystemExit(f"{m.path}: rebuilt from ONNX (ferkit_train.from_onnx) with folded BatchNorms; it cannot join a soup")
    for m in members[1:]:
        if m.checkpoint["config"] != config:
            raise SystemExit(f"{m.path}: architecture {m.checkpoint['config']} differs from {members[0].path}'s {config}")
    first = members[0].checkpoint
    return {
        "model": average_state_dicts([m.model.state_dict() for m in members]),
        "config": config,
        "params": first.get("params"),
        "macs": first.get("macs"),
        "soup": {
            "command": command,
            "members": [{"checkpoint": m.path, **training_record(m.checkpoint, m.raw)} for m in members],
        },
    }


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.soup", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, nargs="+", metavar="CHECKPOINT[:raw]", help="two or more checkpoints of one architecture")
    p.add_argument("--out", required=True, help="the soup's checkpoint file")
    p.add_argument("--val", help="PublicTest data: print each member's and the soup's accuracy (flip TTA)")
    p.add_argument("--limit-val", type=int, default=0)
    a = p.parse_args(argv)
    if len(a.checkpoint) < 2:
        p.error("--checkpoint: a soup needs at least two checkpoints")

    members = [load_member(spec, False) for spec in a.checkpoint]
    ck = soup_checkpoint(members, invocation("ferkit_train.soup", argv))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(ck, a.out)
    result: Dict = {"out": a.out, "members": len(members)}
    if a.val:
        val = load(a.val, "PublicTest", a.limit_val)
        soup = load_member(a.out, False).model

        def accuracy(model: torch.nn.Module) -> float:
            return float((predict_logits(model, val.images, tta=True).argmax(1) == val.labels).mean())

        result["memberAccuracy"] = [accuracy(m.model) for m in members]
        result["accuracy"] = accuracy(soup)
        result["n"] = len(val)
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
