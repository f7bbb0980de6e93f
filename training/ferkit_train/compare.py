"""Is checkpoint A really better than checkpoint B on PublicTest, or is the gap noise? Both score the
same faces, so the paired test applies: an exact McNemar test on the faces exactly one of them gets
right (with flip TTA unless --tta none).

    python3 -m ferkit_train.compare --checkpoint runs/resnet-w40b/best.pt runs/resnet4/last.pt:raw \
        --val ../../shared/data/fer2013/publictest.bin

A ':raw' suffix takes an --ema run's raw weights, as in export.py. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
from typing import Dict, List, Optional

from .data import load
from .export import load_member
from .metrics import mcnemar
from .train import predict_logits


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, nargs=2, metavar=("A[:raw]", "B[:raw]"))
    p.add_argument("--val", required=True, help="PublicTest data")
    p.add_argument("--tta", choices=("flip", "none"), default="flip")
    p.add_argument("--limit-val", type=int, default=0)
    a = p.parse_args(argv)
    val = load(a.val, "PublicTest", a.limit_val)
    correct = []
    for spec in a.checkpoint:
        logits = predict_logits(load_member(spec, False).model, val.images, tta=a.tta == "flip")
        correct.append(logits.argmax(1) == val.labels)
    result = {
        "a": a.checkpoint[0], "b": a.checkpoint[1], "tta": a.tta, "n": len(val),
        "accuracyA": float(correct[0].mean()), "accuracyB": float(correct[1].mean()),
        **mcnemar(*correct),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
