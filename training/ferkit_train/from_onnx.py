"""Rebuild an evaluation checkpoint from a model ferkit shipped as float ONNX, using its model card.

    python3 -m ferkit_train.from_onnx --onnx ../models/ferkit-resnet.onnx --out runs/imported/ferkit-resnet.pt

Training checkpoints live in ignored run folders and can be lost with a machine; the shipped ONNX
files cannot. The export folded each BatchNorm into the convolution before it, so the rebuilt
network carries the folded weights behind identity BatchNorms (scale 1, the folded bias as shift,
mean 0, variance 1 − eps). In evaluation it computes what the ONNX graph computes, which is checked
against the logits in the card's parity fixture before anything is written. The result can be a
member of an ensemble (export.py, ensemble_study.py), a side of compare.py or the subject of
tta_study.py. It cannot continue training (the batch statistics a warm restart normalises by are
gone) or join a soup (its weights are folded, its siblings' are not): train --init and soup refuse it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import nn

from .export import invocation, parity_inputs
from .models import build, count_macs, count_params
from .train import MODEL_KEYS, predict_logits

PARITY_LOGIT_TOLERANCE = 1e-3


def read_card(onnx_path: str) -> Dict:
    card_path = os.path.splitext(onnx_path)[0] + ".json"
    if not os.path.isfile(onnx_path):
        raise SystemExit(f"{onnx_path}: not found")
    if not os.path.isfile(card_path):
        raise SystemExit(f"{onnx_path}: no model card beside it ({card_path})")
    with open(card_path) as f:
        card = json.load(f)
    if card.get("task") != "expression":
        raise SystemExit(f"{card_path}: not an expression model card")
    if card.get("precision", "fp32") != "fp32":  # cards from before int8 exports have no precision
        raise SystemExit(f"{card_path}: precision {card.get('precision')!r}; only float exports can be rebuilt (int8 weights are rounded)")
    if card["architecture"].get("arch") not in ("resnet", "vgg"):
        raise SystemExit(f"{card_path}: architecture {card['architecture'].get('arch')!r}; rebuild each member of an ensemble from its own export")
    return card


def folded_layers(onnx_path: str, data: bytes):
    """The graph's convolutions (weight, bias) in execution order, and its classifier (weight, bias);
    `data` is the file's bytes, named by `onnx_path` in errors."""
    import onnx  # Debian's python3-onnx; only this tool needs it
    from onnx import numpy_helper

    try:
        graph = onnx.load_model_from_string(data).graph
    except Exception as e:  # protobuf's errors do not name the file
        raise SystemExit(f"{onnx_path}: not a readable ONNX model ({e})")
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}

    def tensor(name: str) -> np.ndarray:
        if name not in init:
            raise SystemExit(f"{onnx_path}: {name} is computed in the graph, not stored; not a ferkit export")
        return init[name]

    convs = []
    gemm = None
    for node in graph.node:
        if node.op_type == "Conv":
            w = tensor(node.input[1])
            b = tensor(node.input[2]) if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
            convs.append((w, b))
        elif node.op_type == "Gemm":
            gemm = (tensor(node.input[1]), tensor(node.input[2]))
    if gemm is None:
        raise SystemExit(f"{onnx_path}: no classifier (Gemm) in the graph; not a ferkit export")
    return convs, gemm


def card_config(card: Dict) -> Dict:
    """The build() options of the card's network, in a checkpoint's "config" form."""
    return {k: card["architecture"][k] for k in MODEL_KEYS}


def rebuild(onnx_path: str, data: bytes, card: Dict) -> nn.Module:
    model = build(**card_config(card)).eval()
    convs, (fc_w, fc_b) = folded_layers(onnx_path, data)
    # conv_bn() puts every convolution right before its BatchNorm, and modules() lists them in the
    # order forward() runs them, which is the order the exporter wrote the Conv nodes in.
    modules = list(model.modules())
    pairs = [(m, n) for m, n in zip(modules, modules[1:]) if isinstance(m, nn.Conv2d)]
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    if len(pairs) != len(convs) or len(linears) != 1:
        raise SystemExit(f"{onnx_path}: {len(convs)} convolutions in the graph, {len(pairs)} in the card's architecture")
    with torch.no_grad():
        for (conv, bn), (w, b) in zip(pairs, convs):
            if not isinstance(bn, nn.BatchNorm2d) or tuple(conv.weight.shape) != w.shape:
                raise SystemExit(f"{onnx_path}: a convolution of shape {w.shape} where the card's architecture has {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.tensor(w))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.tensor(b))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)  # (x - 0) / sqrt(var + eps) = x
        if tuple(linears[0].weight.shape) != fc_w.shape:
            raise SystemExit(f"{onnx_path}: classifier of shape {fc_w.shape}, the card's architecture has {tuple(linears[0].weight.shape)}")
        linears[0].weight.copy_(torch.tensor(fc_w))
        linears[0].bias.copy_(torch.tensor(fc_b))
    return model


def check_parity(model: nn.Module, onnx_path: str) -> float:
    """Largest logit difference from the export's parity fixture (PyTorch's logits on fixed inputs)."""
    path = os.path.splitext(onnx_path)[0] + ".parity.json"
    if not os.path.isfile(path):
        raise SystemExit(f"{onnx_path}: no parity fixture beside it ({path}) to check the rebuilt network against")
    with open(path) as f:
        expected = np.asarray(json.load(f)["logits"], dtype=np.float64)
    got = predict_logits(model, parity_inputs(len(expected)), tta=False).astype(np.float64)
    diff = float(np.abs(got - expected).max())
    if diff > PARITY_LOGIT_TOLERANCE:
        raise SystemExit(f"{onnx_path}: the rebuilt network's logits differ from the parity fixture's by {diff:.3g}")
    return diff


def imported_checkpoint(onnx_path: str, command: Optional[str] = None) -> Dict:
    """The rebuilt network as a checkpoint; `command` is the from_onnx invocation that made it, for the card."""
    card = read_card(onnx_path)
    with open(onnx_path, "rb") as f:  # read once: parsed for the weights, hashed for the card
        data = f.read()
    model = rebuild(onnx_path, data, card)
    diff = check_parity(model, onnx_path)
    sha256 = hashlib.sha256(data).hexdigest()  # pins which export it was: a later one can reuse the name
    return {
        "model": model.state_dict(),
        "config": card_config(card),
        "params": count_params(model),
        "macs": count_macs(model),
        # export.training_record reports the shipped model's own record, so a card that includes
        # this network still names the runs that trained it
        "imported": {"onnx": onnx_path, "sha256": sha256, "name": card["name"], "training": card["training"],
                     "parityLogitDiff": diff, **({"command": command} if command else {})},
    }


def main(argv: Optional[List[str]] = None) -> Dict:
    p = argparse.ArgumentParser(prog="ferkit_train.from_onnx", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", required=True, help="a float model ferkit exported (its .json card and .parity.json beside it)")
    p.add_argument("--out", required=True, help="checkpoint file to write")
    a = p.parse_args(argv)
    ck = imported_checkpoint(a.onnx, invocation("ferkit_train.from_onnx", argv))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(ck, a.out)
    print(f"rebuilt {ck['imported']['name']} ({ck['params'] / 1e6:.2f} M parameters; parity logits within "
          f"{ck['imported']['parityLogitDiff']:.1e}); wrote {a.out}")
    return ck


if __name__ == "__main__":
    main()
