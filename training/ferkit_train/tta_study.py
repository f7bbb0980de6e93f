"""Does test-time augmentation beyond the mirror help? PublicTest accuracy of a checkpoint under
flip TTA and under flip + shifted views (edge-replicated integer shifts, each also mirrored).

    python3 -m ferkit_train.tta_study --checkpoint runs/resnet4/last.pt:raw \
        --val ../../shared/data/fer2013/publictest.bin --shifts 1,2,3

Shift views are what a crop TTA amounts to on an aligned 48x48 face; each costs a full forward pass.
A ':raw' suffix takes an --ema run's raw weights, as in export.py.
"""
from __future__ import annotations

import argparse
import json
from typing import Dict, List, Optional, Tuple

import numpy as np

from .data import load
from .export import load_member
from .metrics import softmax, summarize
from .train import predict_logits


def shifted(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """out[y, x] = in[clamp(y + dy), clamp(x + dx)] over (..., H, W): the image moved by (-dx, -dy),
    border pixels repeated."""
    h, w = images.shape[-2:]
    iy = np.clip(np.arange(h) + dy, 0, h - 1)
    ix = np.clip(np.arange(w) + dx, 0, w - 1)
    return images[..., iy, :][..., ix]


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.tta_study", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, metavar="CHECKPOINT[:raw]", help="a train.py checkpoint")
    p.add_argument("--val", required=True, help="PublicTest data")
    p.add_argument("--shifts", default="1,2,3", help="shift sizes in pixels; each adds 4 shifts (left, right, up, down) x 2 mirrors")
    p.add_argument("--limit-val", type=int, default=0)
    a = p.parse_args(argv)

    model = load_member(a.checkpoint, False).model
    val = load(a.val, "PublicTest", a.limit_val)
    # flip-TTA logits (the mean of a view and its mirror) per shift, each computed once
    cache: Dict[Tuple[int, int], np.ndarray] = {}

    def flip_logits(dx: int, dy: int) -> np.ndarray:
        if (dx, dy) not in cache:
            cache[dx, dy] = predict_logits(model, shifted(val.images, dx, dy), tta=True)
        return cache[dx, dy]

    def accuracy(logits: np.ndarray) -> float:
        return summarize(softmax(logits), val.labels)["accuracy"]

    rows = [
        {"views": "none", "passes": 1, "accuracy": accuracy(predict_logits(model, val.images, tta=False))},
        {"views": "flip", "passes": 2, "accuracy": accuracy(flip_logits(0, 0))},
    ]
    for s in (int(v) for v in a.shifts.split(",") if v):
        shifts = [(0, 0), (s, 0), (-s, 0), (0, s), (0, -s)]
        # every shift has two views, so the mean of the per-shift means is the mean over all views
        logits = np.mean([flip_logits(dx, dy) for dx, dy in shifts], 0)
        rows.append({"views": f"flip + shifts of {s} px", "passes": 2 * len(shifts), "accuracy": accuracy(logits)})
    for r in rows:
        print(json.dumps(r), flush=True)
    return {"n": len(val), "rows": rows}


if __name__ == "__main__":
    main()
