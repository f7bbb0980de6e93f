"""Post-training static int8 quantization of a trained expression model.

Weights become int8 per output channel, activations uint8 per tensor with ranges observed on
Training faces (never PublicTest: it selects and reports). The result exports to ONNX as
QuantizeLinear/DequantizeLinear pairs around each convolution, which ONNX Runtime fuses into
integer kernels: on this project's AVX2 CPUs that halves the cost of a face (see models/README.md).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from .augment import flip

# PyTorch's x86 ("fbgemm") scheme: per-channel symmetric int8 weights, affine uint8 activations in
# a 7-bit range, the headroom ONNX Runtime's u8s8 AVX2 kernels need to avoid overflow. It is only
# the recipe for the ranges: PyTorch computes with whichever quantized engine it was built with.
QCONFIG = "fbgemm"


# Kept in float: the stem, whose input is 8-bit pixels that a 7-bit activation range would coarsen,
# and the head, whose logits would otherwise come out in ~0.1-wide steps. Together they are < 1 % of
# the work.
FLOAT_MODULES = ("features.0", "features.1", "head")


def quantize_int8(model: torch.nn.Module, images: np.ndarray, batch: int = 256) -> torch.nn.Module:
    """An int8 copy of an eval-mode float ResNet or VGG `model`, calibrated on uint8 `images` and
    their mirrors (flip TTA feeds mirrors at run time)."""
    model = model.cpu().eval()
    example = torch.zeros(1, 1, images.shape[1], images.shape[2])
    qconfig = get_default_qconfig_mapping(QCONFIG)
    for name in FLOAT_MODULES:
        qconfig = qconfig.set_module_name(name, None)
    prepared = prepare_fx(model, qconfig, example_inputs=(example,))
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(images[i : i + batch]).float().unsqueeze(1)
            prepared(x)
            prepared(flip(x))
    return convert_fx(prepared).eval()
