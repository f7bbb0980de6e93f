"""Do ensembles of trained checkpoints beat their best member? PublicTest accuracy of each checkpoint
and of every combination of two or more, combined as export.py's ensemble graph combines them (the
mean of the members' log-softmax(logits / T), each T fitted on PublicTest), with and without flip TTA.

    python3 -m ferkit_train.ensemble_study --checkpoint runs/resnet4/last.pt:raw runs/resnet-w40/best.pt \
        --val ../../shared/data/fer2013/publictest.bin

A ':raw' suffix takes an --ema run's raw weights, as in export.py. Each member costs a full forward
pass per view, so an ensemble of k costs k times a single model.
"""
from __future__ import annotations

import argparse
import itertools
import json
from typing import Dict, List, Optional, Sequence

import numpy as np

from .data import load
from .export import load_member
from .metrics import fit_temperature, log_softmax
from .train import predict_logits


def combine(logits: Sequence[np.ndarray], temperatures: Sequence[float]) -> np.ndarray:
    """models.Ensemble's output, in numpy: the mean of the members' temperature-scaled log-probabilities."""
    return np.mean([log_softmax(z, t) for z, t in zip(logits, temperatures)], 0)


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.ensemble_study", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, nargs="+", metavar="CHECKPOINT[:raw]")
    p.add_argument("--val", required=True, help="PublicTest data")
    p.add_argument("--limit-val", type=int, default=0)
    a = p.parse_args(argv)
    if len(a.checkpoint) < 2:
        p.error("--checkpoint needs two or more checkpoints to combine")
    val = load(a.val, "PublicTest", a.limit_val)
    mirrored = np.ascontiguousarray(val.images[..., ::-1])
    views, temperatures = {}, {}
    for spec in a.checkpoint:
        model = load_member(spec, False).model
        views[spec] = (predict_logits(model, val.images, tta=False), predict_logits(model, mirrored, tta=False))
        temperatures[spec] = fit_temperature(views[spec][0], val.labels)

    def accuracy(z: np.ndarray) -> float:
        return float((z.argmax(1) == val.labels).mean())

    rows = []
    for k in range(1, len(views) + 1):
        for members in itertools.combinations(views, k):
            temps = [temperatures[m] for m in members]
            plain = combine([views[m][0] for m in members], temps)
            flipped = combine([views[m][1] for m in members], temps)
            row = {"members": list(members), "accuracy": accuracy(plain), "accuracyTta": accuracy(plain + flipped)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return {"n": len(val), "temperatures": temperatures, "rows": rows}


if __name__ == "__main__":
    main()
