"""Does test-time augmentation beyond the mirror help? PublicTest accuracy of a checkpoint under
flip TTA and under flip + shifted views (edge-replicated integer shifts, each also mirrored).

    python3 -m ferkit_train.tta_study --checkpoint runs/resnet4/last.pt \
        --val ../../shared/data/fer2013/publictest.bin --shifts 1,2,3

Shift views are what a crop TTA amounts to on an aligned 48x48 face; each costs a full forward pass.
"""
from __future__ import annotations

import argparse
import json
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from .data import load
from .metrics import softmax, summarize
from .models import build

View = Tuple[int, int, bool]  # (dx, dy, mirrored)


def shifted(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """out[y, x] = in[clamp(y + dy), clamp(x + dx)]: the image moved by (-dx, -dy), border pixels repeated."""
    h, w = x.shape[-2:]
    iy = torch.clamp(torch.arange(h) + dy, 0, h - 1)
    ix = torch.clamp(torch.arange(w) + dx, 0, w - 1)
    return x[:, :, iy][:, :, :, ix]


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.tta_study", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="a train.py checkpoint (an --ema run's last.pt: its raw weights)")
    p.add_argument("--val", required=True, help="PublicTest data")
    p.add_argument("--shifts", default="1,2,3", help="shift sizes in pixels; each adds 4 shifts (left, right, up, down) x 2 mirrors")
    p.add_argument("--limit-val", type=int, default=0)
    a = p.parse_args(argv)

    ck = torch.load(a.checkpoint, map_location="cpu")
    model = build(**ck["config"])
    model.load_state_dict(ck.get("train_model", ck["model"]))
    model.eval()
    val = load(a.val, "PublicTest")
    if a.limit_val:
        val = val.subset(a.limit_val)
    x = torch.from_numpy(val.images).float().unsqueeze(1)
    cache: Dict[View, np.ndarray] = {}

    @torch.no_grad()
    def logits(view: View) -> np.ndarray:
        if view not in cache:
            v = shifted(x, view[0], view[1])
            if view[2]:
                v = torch.flip(v, dims=[3])
            cache[view] = torch.cat([model(v[i : i + 512]) for i in range(0, len(v), 512)]).numpy()
        return cache[view]

    def accuracy(views: List[View]) -> float:
        return summarize(softmax(np.mean([logits(v) for v in views], 0)), val.labels)["accuracy"]

    flip: List[View] = [(0, 0, False), (0, 0, True)]
    rows = [{"views": "none", "passes": 1, "accuracy": accuracy(flip[:1])}, {"views": "flip", "passes": 2, "accuracy": accuracy(flip)}]
    for s in (int(v) for v in a.shifts.split(",") if v):
        views = flip + [(dx, dy, m) for dx, dy in ((s, 0), (-s, 0), (0, s), (0, -s)) for m in (False, True)]
        rows.append({"views": f"flip + shifts of {s} px", "passes": len(views), "accuracy": accuracy(views)})
    for r in rows:
        print(json.dumps(r), flush=True)
    return {"n": len(val), "rows": rows}


if __name__ == "__main__":
    main()
