"""Post-training static int8 quantization of a landmark checkpoint (PyTorch FX, x86 recipe as the
expression models' ferkit_train/quantize.py), calibrated on HELEN training crops — the faces it was
trained on, never the holdout or AFW — and their augmented variants, so the activation ranges cover
turned, tilted and occluded faces too.

Kept in float: the first convolution (its input is 8-bit pixels after mean subtraction, which a 7-bit
activation range would coarsen) and the fully connected head (points would come out in coarse steps).
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from ..quantize import QCONFIG
from .data import Augment, LandmarkSet, make_batch
from .net import LandmarkNet, load_checkpoint

FLOAT_MODULES: Tuple[str, ...] = ("blocks.0.conv0", "fc")


def calibration_batches(ds: LandmarkSet, batch: int = 64, augmented_rounds: int = 2, seed: int = 0):
    """Plain crops of every face, then `augmented_rounds` passes of training augmentation."""
    n = len(ds.names)
    for s in range(0, n, batch):
        yield make_batch(ds, torch.arange(s, min(s + batch, n)), None, None)[0]
    gen = torch.Generator().manual_seed(seed)
    aug = Augment()
    for _ in range(augmented_rounds):
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, batch):
            yield make_batch(ds, perm[s:s + batch], aug, gen)[0]


def quantize_landmarks(net: LandmarkNet, calibration: LandmarkSet) -> torch.nn.Module:
    """An int8 copy of the eval-mode float `net`, its activation ranges observed on `calibration`."""
    net = net.cpu().eval()
    qconfig = get_default_qconfig_mapping(QCONFIG)
    for name in FLOAT_MODULES:
        qconfig = qconfig.set_module_name(name, None)
    prepared = prepare_fx(net, qconfig, example_inputs=(torch.zeros(1, 3, 112, 112),))
    with torch.no_grad():
        for x in calibration_batches(calibration):
            prepared(x)
    return convert_fx(prepared).eval()


def main(argv=None) -> None:
    """Measures what int8 costs: holdout NME of the float and int8 networks, and writes the int8 ONNX
    (QuantizeLinear/DequantizeLinear pairs, opset 13) for timing against the float export."""
    import argparse

    from .data import load_set, split_holdout
    from .train import evaluate

    p = argparse.ArgumentParser(prog="ferkit_train.landmarks.quantize", description=main.__doc__)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--boxes", required=True)
    p.add_argument("--holdout", type=float, default=0.1, help="as in train.py, so the holdout is the same photos")
    p.add_argument("--out", required=True, help="int8 .onnx to write")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    net, _ = load_checkpoint(a.checkpoint)
    ds = load_set(a.data, a.boxes)
    tr, ho = split_holdout(ds.names, a.holdout)
    train, hold = ds.subset(tr), ds.subset(ho)
    q = quantize_landmarks(net, train)
    print(f"holdout NME mean: float {evaluate(net, hold).mean():.4f}, int8 {evaluate(q, hold).mean():.4f}")
    torch.onnx.export(q, torch.zeros(1, 3, 112, 112), a.out, input_names=["input"], output_names=["landmarks"],
                      dynamic_axes={"input": {0: "batch"}, "landmarks": {0: "batch"}}, opset_version=13,
                      do_constant_folding=True)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
