"""Export a trained checkpoint to ONNX with its model card, calibrated on PublicTest.

    python3 -m ferkit_train.export --checkpoint runs/resnet/best.pt \
        --val ../../shared/data/fer2013/publictest.bin --name ferkit-resnet --out ../models

Writes <out>/<name>.onnx, <out>/<name>.json (the card) and <out>/<name>.parity.json (fixed
synthetic inputs with PyTorch's probabilities, so TypeScript can prove it computes the same).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import subprocess
import sys
from typing import Dict, List, NamedTuple, Optional

import numpy as np
import torch

from . import IMAGE_SIZE, LABELS
from .data import load
from .metrics import fit_temperature, softmax, summarize
from .models import PIXEL_MEAN, PIXEL_STD, Ensemble, build, count_macs, count_params
from .quantize import QCONFIG, quantize_int8
from .train import predict_logits, raw_weights


PARITY_TOLERANCE_FP32 = 1e-4
PARITY_TOLERANCE_INT8 = 0.03


def parity_inputs(count: int = 4) -> np.ndarray:
    """Deterministic grey patterns that TypeScript regenerates bit for bit (see test/expression-parity)."""
    ys, xs = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64)
    out = [np.floor(127.5 + 127.5 * np.sin(0.3 * (k + 1) * xs + 0.2 * ys + k)) for k in range(count)]
    return np.stack(out).astype(np.uint8)


def git_commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "HEAD"], stderr=subprocess.DEVNULL, text=True).strip()
    except Exception:
        return "unknown"


def training_command(args: Dict) -> str:
    skip = {"resume", "no_progress", "threads", "device"}  # execution details, not the recipe
    parts = ["python3", "-m", "ferkit_train.train"]
    for k, v in args.items():
        if k in skip or v is None or v is False or v == "" or (v == 0 and k.startswith(("limit", "max"))):
            continue
        flag = "--" + k.replace("_", "-")
        parts += [flag] if v is True else [flag, str(v)]
    return " ".join(shlex.quote(p) for p in parts)


def invocation(module: str, argv: Optional[List[str]]) -> str:
    """The shell command that ran `module` with these arguments (the process's own when argv is None)."""
    args = argv if argv is not None else sys.argv[1:]
    return " ".join(shlex.quote(x) for x in ["python3", "-m", module, *args])


class Member(NamedTuple):
    model: torch.nn.Module  # float, eval mode
    checkpoint: Dict
    raw: bool  # the raw weights of an --ema run, not the average
    path: str


def load_member(spec: str, raw_weights_flag: bool) -> Member:
    """A checkpoint's model from `PATH` or `PATH:raw` (the raw weights of an --ema run's last.pt)."""
    path, raw = (spec[: -len(":raw")], True) if spec.endswith(":raw") else (spec, raw_weights_flag)
    if not os.path.isfile(path):
        raise SystemExit(f"{path}: checkpoint not found")
    ck = torch.load(path, map_location="cpu")  # a checkpoint saved on a GPU exports anywhere
    if raw and "train_model" not in ck:
        raise SystemExit(f"{spec if spec.endswith(':raw') else '--raw-weights'}: {path} has no raw weights (only the last.pt of an --ema run has)")
    model = build(**ck["config"])
    model.load_state_dict(raw_weights(ck) if raw else ck["model"])
    return Member(model.eval(), ck, raw, path)


def training_record(ck: Dict, raw: bool) -> Dict:
    """How one checkpoint was trained: its command, the runs it was warm-started from, its epochs."""
    if "soup" in ck:
        return soup_record(ck["soup"])
    if "imported" in ck:  # rebuilt from a shipped ONNX file (from_onnx.py): that model's own record,
        # its command extended by the export that wrote the file and the rebuild that read it back
        imported, record = ck["imported"], ck["imported"]["training"]
        steps = [record["command"], record.get("exportCommand"), imported.get("command")]
        return {**record, "command": " && ".join(s for s in steps if s),
                "importedFrom": {k: imported[k] for k in ("onnx", "sha256", "name", "command") if k in imported}}
    state = ck["state"]
    return {
        "command": training_command(ck["args"]),
        # A warm-restarted model is reproduced by running these first, in order (each
        # writes the checkpoint the next one's --init names).
        "initializedFrom": [
            {"command": training_command(r["args"]), "epochs": r["epochs"], "checkpoint": r["checkpoint"]} for r in ck.get("lineage", [])
        ],
        "epochs": state["epoch"],
        "totalEpochs": state["epoch"] + sum(r["epochs"] for r in ck.get("lineage", [])),
        "steps": state["step"],
        "elapsedSeconds": round(state["elapsed"]),
        "weights": "raw weights of the last epoch" if raw
        else ("moving average of the weights (--ema)" if ck["args"].get("ema") else "as trained"),
        # the log row of the exported weights: the last epoch's, or the best selected one's
        "bestEpochLog": (state["log"][-1] if raw else max(state["log"], key=lambda r: r["val_acc_tta"])) if state["log"] else None,
    }


def soup_record(soup: Dict) -> Dict:
    """How a weight average (ferkit_train.soup) was made: every run behind its members, each once
    (siblings share their parent run), then the soup command."""
    runs: Dict[str, int] = {}  # command -> epochs; insertion order is the order to run them in
    for m in soup["members"]:
        for r in m["initializedFrom"] + [m]:
            runs[r["command"]] = max(runs.get(r["command"], 0), r["epochs"])
    total = sum(runs.values())
    return {
        "command": " && ".join(list(runs) + [soup["command"]]),
        "initializedFrom": [],
        "members": soup["members"],
        "epochs": total,
        "totalEpochs": total,
        "weights": f"uniform average of {len(soup['members'])} checkpoints' weights (ferkit_train.soup)",
        "bestEpochLog": None,
    }


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, nargs="+", metavar="CHECKPOINT[:raw]",
                   help="a checkpoint; several make one ensemble graph (the mean of their temperature-scaled "
                        "log-probabilities). A ':raw' suffix exports that checkpoint's raw weights (see --raw-weights)")
    p.add_argument("--val", required=True, help="PublicTest data for calibration and the card's metrics")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--limit-val", type=int, default=0)
    p.add_argument("--tta", choices=("flip", "none"), default="flip",
                   help="the test-time augmentation hosts use by default (card calibration.tta; both temperatures are fitted)")
    p.add_argument("--raw-weights", action="store_true",
                   help="export the raw weights of an --ema run's last.pt (saved beside the average) instead of the average")
    p.add_argument("--int8", action="store_true",
                   help="quantize to int8 after training (static, calibrated on --calibration); metrics are the int8 model's")
    p.add_argument("--calibration", help="Training data whose faces set the int8 activation ranges (required with --int8)")
    p.add_argument("--calibration-size", type=int, default=2048, help="how many Training faces to calibrate on (default 2048)")
    a = p.parse_args(argv)
    if a.int8 and not a.calibration:
        p.error("--int8 needs --calibration (Training data; PublicTest only selects and reports)")

    loaded = [load_member(spec, a.raw_weights) for spec in a.checkpoint]
    val = load(a.val, "PublicTest", a.limit_val)
    members = [m.model for m in loaded]
    # counted on the float graph: quantization changes the arithmetic, not the network
    parameters = sum(count_params(m) for m in members)
    macs = sum(count_macs(m) for m in members)
    quantization = None
    if a.int8:
        calibration = load(a.calibration, "Training", a.calibration_size)
        members = [quantize_int8(m, calibration.images) for m in members]
        quantization = {
            "method": "post-training static quantization (PyTorch FX), exported as QuantizeLinear/DequantizeLinear",
            "weights": "int8, symmetric, per output channel",
            "activations": "uint8, affine, per tensor, 7-bit range",
            "qconfig": QCONFIG,
            "calibration": f"{len(calibration)} FER2013 Training faces and their mirrors (random subset, seed 0)",
        }
    configs = [m.checkpoint["config"] for m in loaded]
    records = [training_record(m.checkpoint, m.raw) for m in loaded]
    if len(members) == 1:
        model, family, architecture = members[0], configs[0]["arch"], configs[0]
        training = records[0]
    else:
        # each member's own temperature, on its single-view PublicTest logits, as exported (int8 or not)
        temperatures = [fit_temperature(predict_logits(m, val.images, tta=False), val.labels) for m in members]
        model = Ensemble(members, temperatures).eval()
        archs = {c["arch"] for c in configs}
        family = archs.pop() if len(archs) == 1 else "ensemble"
        architecture = {
            "arch": "ensemble",
            "combine": "mean of the members' log-softmax(logits / member temperature)",
            "members": [{**c, "temperature": t, "parameters": count_params(m.model)} for c, t, m in zip(configs, temperatures, loaded)],
        }
        runs = [cmd for r in records for cmd in [x["command"] for x in r["initializedFrom"]] + [r["command"]]]
        total = sum(r["totalEpochs"] for r in records)
        training = {
            # every member's runs, in order; then exportCommand combines their checkpoints
            "command": " && ".join(runs),
            "members": [{"checkpoint": m.path, **r} for r, m in zip(records, loaded)],
            "epochs": total,
            "totalEpochs": total,
        }

    logits = predict_logits(model, val.images, tta=False)
    logits_tta = predict_logits(model, val.images, tta=True)
    t_plain = fit_temperature(logits, val.labels)
    t_tta = fit_temperature(logits_tta, val.labels)
    plain = summarize(softmax(logits, t_plain), val.labels)
    tta = summarize(softmax(logits_tta, t_tta), val.labels)
    uncal = summarize(softmax(logits_tta), val.labels)

    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, a.name + ".onnx")
    torch.onnx.export(
        model, torch.zeros(1, 1, IMAGE_SIZE, IMAGE_SIZE), onnx_path, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13, do_constant_folding=True,
    )
    card = {
        "name": a.name,
        "task": "expression",
        "file": os.path.basename(onnx_path),
        "family": family,
        "labels": LABELS,
        "input": {
            "name": "input", "shape": ["batch", 1, IMAGE_SIZE, IMAGE_SIZE], "color": "gray", "pixelRange": [0, 255],
            "normalization": {"mean": PIXEL_MEAN, "std": PIXEL_STD, "inGraph": True},
        },
        "output": {"name": "logits", "kind": "logits"},
        "calibration": {"tta": a.tta, "temperature": t_tta, "temperatureNoTta": t_plain, "method": "temperature scaling, NLL on PublicTest"},
        "architecture": architecture,
        "precision": "int8" if a.int8 else "fp32",
        **({"quantization": quantization} if quantization else {}),
        "parameters": parameters,
        "macs": macs,
        "flops": 2 * macs,
        "metrics": {
            "split": "PublicTest",
            "n": len(val),
            "accuracy": plain["accuracy"],
            "accuracyTta": tta["accuracy"],
            "macroF1": plain["macroF1"],
            "macroF1Tta": tta["macroF1"],
            "ece": tta["ece"],
            "eceNoTta": plain["ece"],
            "eceUncalibrated": uncal["ece"],
            "nll": tta["nll"],
            "perClass": tta["perClass"],
            "confusion": tta["confusion"],
        },
        "training": {
            **training,
            "exportCommand": invocation("ferkit_train.export", argv),
            "commit": git_commit(),
            "data": {"train": "FER2013 Training (28,709 faces)", "selection": "FER2013 PublicTest (3,589 faces)"},
        },
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with open(os.path.join(a.out, a.name + ".json"), "w") as f:
        json.dump(card, f, indent=2)

    x = parity_inputs()
    z = predict_logits(model, x, tta=False)
    zt = predict_logits(model, x, tta=True)
    parity = {
        "generator": "floor(127.5 + 127.5 * sin(0.3 * (k + 1) * x + 0.2 * y + k)), k = 0..3, 48x48",
        # Float graphs agree to rounding. Two int8 engines (PyTorch's and ONNX Runtime's) agree only
        # to a quantization step: a value a hair from a rounding boundary lands on different sides,
        # and the 1-step difference spreads through later layers (measured: 1 of 18k values differs
        # after the first quantized layer, a few hundred by the last; the parity probabilities then
        # differ by ~0.01). test/expression-accuracy checks the int8 model on all of PublicTest too.
        "tolerance": PARITY_TOLERANCE_INT8 if a.int8 else PARITY_TOLERANCE_FP32,
        "logits": z.tolist(),
        "probabilitiesNoTta": softmax(z, t_plain).tolist(),
        "probabilitiesTta": softmax(zt, t_tta).tolist(),
    }
    with open(os.path.join(a.out, a.name + ".parity.json"), "w") as f:
        json.dump(parity, f)
    print(json.dumps({k: card["metrics"][k] for k in ("accuracy", "accuracyTta", "macroF1Tta", "ece", "eceUncalibrated")}))
    print(f"T = {t_tta:.3f} (flip TTA), {t_plain:.3f} (plain); wrote {onnx_path}")
    return card


if __name__ == "__main__":
    main()
