"""Export a landmark checkpoint to ONNX (the graph contract of ferkit's converted face-api model, so
src/landmarks/landmark68.ts runs it unchanged), with a model card and a parity fixture.

    python3 -m ferkit_train.landmarks.export --checkpoint runs/lm1/best.pt --name ferkit-landmarks --out ../models

Writes <out>/<name>.onnx, <name>.json (card: task "landmarks68", input contract, architecture, data,
holdout metrics, the exact training and export commands, git commit), <name>.parity.json (PyTorch's
outputs on fixed synthetic inputs that test/landmark-parity.test.ts regenerates) and <name>.log.csv.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
from typing import Dict, List, Optional

import numpy as np
import torch

from ..export import git_commit, invocation
from . import INPUT_SIZE, POINTS
from .net import MEAN_RGB, count_params, load_checkpoint

PARITY_TOLERANCE = 1e-4


def parity_inputs(count: int = 3) -> np.ndarray:
    """[count, 3, 112, 112] RGB patterns, 0..255 integers, that TypeScript regenerates bit for bit."""
    ys, xs = np.mgrid[0:INPUT_SIZE, 0:INPUT_SIZE].astype(np.float64)
    out = [[np.floor(127.5 + 127.5 * np.sin(0.11 * (k + 1) * xs + 0.07 * (c + 1) * ys + k + c)) for c in range(3)]
           for k in range(count)]
    return np.asarray(out, dtype=np.float32)


def count_macs(net: torch.nn.Module) -> int:
    macs = 0

    def hook(m, i, o):
        nonlocal macs
        if isinstance(m, torch.nn.Conv2d):
            macs += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, torch.nn.Linear):
            macs += m.in_features * m.out_features

    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        net(torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE))
    for h in hs:
        h.remove()
    return macs


def initialized_from(train_args: Dict, parent: Optional[Dict]):
    """The card's lineage: face-api's weights, or a parent checkpoint (pruned to narrower widths) with its
    own command and lineage, or random."""
    if train_args.get("init_checkpoint") and parent:
        return {"checkpoint": parent["checkpoint"], "parentWidths": parent["widths"],
                "pruned": "channels kept by weight magnitude (ferkit_train/landmarks/prune.py)",
                "parentCommand": parent["command"], "parentHoldout": parent["holdout"],
                **({"parentInitializedFrom": "face-api's FaceLandmark68Net weights (MIT, npm @vladmandic/face-api)"}
                   if "--init-faceapi" in parent["command"] else {})}
    if train_args.get("init_faceapi"):
        return ("face-api's FaceLandmark68Net weights (MIT, npm @vladmandic/face-api), via ferkit's converted "
                "face_landmark_68.onnx")
    return "random"


def fuse_pads_into_convs(path: str) -> None:
    """Folds each zero Pad that feeds only a Conv into the Conv's own (asymmetric) pads attribute: the
    TensorFlow 'SAME' padding of net.py, exported at opset 10 where Pad's pads are an attribute."""
    import onnx
    from onnx import helper

    model = onnx.load(path)
    g = model.graph
    consumers: Dict[str, List] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    removed = []
    for pad in [n for n in g.node if n.op_type == "Pad"]:
        attrs = {a.name: helper.get_attribute_value(a) for a in pad.attribute}
        users = consumers.get(pad.output[0], [])
        if attrs.get("mode", b"constant") not in (b"constant", "constant") or attrs.get("value", 0.0) != 0.0:
            continue
        if len(users) != 1 or users[0].op_type != "Conv":
            continue
        p = list(attrs["pads"])  # [n, c, h, w] begins then ends
        if p[0] or p[1] or p[4] or p[5]:
            continue
        conv = users[0]
        old = next((a for a in conv.attribute if a.name == "pads"), None)
        base = list(old.ints) if old is not None else [0, 0, 0, 0]
        merged = [base[0] + p[2], base[1] + p[3], base[2] + p[6], base[3] + p[7]]
        if old is not None:
            conv.attribute.remove(old)
        conv.attribute.append(helper.make_attribute("pads", merged))
        conv.input[0] = pad.input[0]
        removed.append(pad)
    for n in removed:
        g.node.remove(n)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.landmarks.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if not os.path.exists(args.checkpoint):
        raise SystemExit(f"{args.checkpoint}: checkpoint not found")
    net, ck = load_checkpoint(args.checkpoint)
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, f"{args.name}.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE), onnx_path, input_names=["input"],
                      output_names=["landmarks"], dynamic_axes={"input": {0: "batch"}, "landmarks": {0: "batch"}},
                      opset_version=10, do_constant_folding=True)
    fuse_pads_into_convs(onnx_path)
    inputs = parity_inputs()
    with torch.no_grad():
        outputs = net(torch.from_numpy(inputs)).numpy()
    parity = {"model": f"{args.name}.onnx", "inputs": "parity_inputs() in ferkit_train/landmarks/export.py: "
              "floor(127.5 + 127.5 sin(0.11 (k+1) x + 0.07 (c+1) y + k + c)) for input k, channel c",
              "count": len(inputs), "tolerance": PARITY_TOLERANCE, "outputs": outputs.round(7).tolist()}
    with open(os.path.join(args.out, f"{args.name}.parity.json"), "w") as f:
        json.dump(parity, f)
    train_args = ck["args"]
    log_src = os.path.join(os.path.dirname(args.checkpoint), "log.csv")
    if os.path.exists(log_src):
        shutil.copyfile(log_src, os.path.join(args.out, f"{args.name}.log.csv"))
    with open(onnx_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    card = {
        "name": args.name,
        "task": "landmarks68",
        "file": f"{args.name}.onnx",
        "sha256": sha,
        "points": "iBUG 300-W 68-point order",
        "input": {"name": "input", "shape": ["batch", 3, INPUT_SIZE, INPUT_SIZE], "color": "rgb", "pixelRange": [0, 255],
                  "normalization": {"mean": list(MEAN_RGB), "scale": 255, "inGraph": True},
                  "crop": "the detector box clipped to the image and floored, centre-padded with zeros to a square, "
                          "resized to 112 with TensorFlow's legacy bilinear mapping (src/landmarks/landmark68.ts)",
                  "boxes": "ferkit's default detector (SSD MobileNetV1, 'cnn'): trained on its boxes, jittered"},
        "output": {"name": "landmarks", "shape": ["batch", POINTS * 2],
                   "meaning": "(x, y) of the 68 points in 0..1 units of the padded square crop"},
        "architecture": {"family": "face-api FaceLandmark68Net (4 dense blocks of depthwise-separable convs, avg pool, fc)",
                         "widths": list(ck["widths"]), "parameters": count_params(net), "macs": count_macs(net)},
        "training": {
            "data": f"{train_args['data']}: HELEN training faces with 300-W 68-point annotations; "
                    f"{train_args['holdout']:.0%} of the photos held out for selection; AFW never used",
            "initializedFrom": initialized_from(train_args, ck.get("parent")),
            "command": invocation("ferkit_train.landmarks.train", ck.get("argv")),
            "selectedEpoch": ck["epoch"] + 1,
            "weights": "exponential moving average of the weights" if train_args.get("ema") else "as trained",
            "holdout": ck["holdout"],
        },
        "exportCommand": invocation("ferkit_train.landmarks.export", argv),
        "gitCommit": git_commit(),
        "exported": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "licence": "weights derived from face-api's (MIT); trained on HELEN/300-W annotations (research use)",
    }
    with open(os.path.join(args.out, f"{args.name}.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {onnx_path} ({card['architecture']['parameters']} parameters, holdout NME mean "
          f"{ck['holdout']['holdout_nme_mean']:.4f})")
    return card


if __name__ == "__main__":
    main()
