"""face-api's FaceLandmark68Net in PyTorch, layer for layer as src/convert/faceapi-landmarks.ts writes it to
ONNX: four dense blocks of depthwise-separable 3x3 convolutions (TensorFlow 'SAME' padding), a 7x7 average
pool and a fully connected layer to 136 outputs. Input [N, 3, 112, 112] RGB 0..255; the graph normalises
((x - mean) / 255). Output: the 68 (x, y) pairs in 0..1 units of the padded square crop.

`widths` other than face-api's (32, 64, 128, 256) give a wider or narrower network of the same shape,
trained from scratch.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import INPUT_SIZE, POINTS

MEAN_RGB = (122.782, 117.001, 104.298)
FACEAPI_WIDTHS = (32, 64, 128, 256)


def tf_same_pad(x: torch.Tensor, stride: int) -> torch.Tensor:
    """TensorFlow 'SAME' padding of a 3x3 kernel: stride 1 pads 1 on each side; stride 2 on an even size
    (every size in this network: 112, 56, 28, 14) pads one row and column after. Constant pads, so the
    ONNX export has one static Pad node instead of shape arithmetic."""
    return F.pad(x, (1, 1, 1, 1) if stride == 1 else (0, 1, 0, 1))


class SeparableConv(nn.Module):
    """tf.separableConv2d + bias: 3x3 depthwise (no bias), then 1x1 pointwise with the bias; no activation."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, 0, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, 1, 0, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(tf_same_pad(x, self.stride)))


class DenseBlock4(nn.Module):
    """face-api's denseBlock4 (scale down): four convolutions whose outputs are summed densely."""

    def __init__(self, cin: int, cout: int, first: bool) -> None:
        super().__init__()
        self.first = first
        self.conv0 = nn.Conv2d(cin, cout, 3, 2, 0, bias=True) if first else SeparableConv(cin, cout, 2)
        self.conv1 = SeparableConv(cout, cout, 1)
        self.conv2 = SeparableConv(cout, cout, 1)
        self.conv3 = SeparableConv(cout, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = F.relu(self.conv0(tf_same_pad(x, 2)) if self.first else self.conv0(x))
        out2 = self.conv1(out1)
        in3 = F.relu(out1 + out2)
        out3 = self.conv2(in3)
        in4 = F.relu(out1 + (out2 + out3))
        out4 = self.conv3(in4)
        return F.relu(out1 + (out2 + (out3 + out4)))


class LandmarkNet(nn.Module):
    def __init__(self, widths: Sequence[int] = FACEAPI_WIDTHS) -> None:
        super().__init__()
        self.widths = tuple(int(w) for w in widths)
        chans = (3,) + self.widths
        self.blocks = nn.ModuleList(DenseBlock4(chans[i], chans[i + 1], i == 0) for i in range(len(self.widths)))
        self.fc = nn.Linear(self.widths[-1], POINTS * 2)
        self.register_buffer("mean", torch.tensor(MEAN_RGB, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / 255.0
        for block in self.blocks:
            x = block(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def _onnx_initializers(path: str) -> Dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def load_faceapi_weights(net: LandmarkNet, onnx_path: str) -> None:
    """Copies face-api's weights from ferkit's converted face_landmark_68.onnx (names from the converter)."""
    if net.widths != FACEAPI_WIDTHS:
        raise ValueError(f"face-api's weights need widths {FACEAPI_WIDTHS}, not {net.widths}")
    init = _onnx_initializers(onnx_path)

    def take(name: str, shape) -> torch.Tensor:
        if name not in init:
            raise KeyError(f"{onnx_path}: no initializer {name!r} (not ferkit's converted face_landmark_68.onnx?)")
        a = torch.from_numpy(init[name].copy())
        if tuple(a.shape) != tuple(shape):
            raise ValueError(f"{onnx_path}: {name} has shape {tuple(a.shape)}, expected {tuple(shape)}")
        return a

    with torch.no_grad():
        for i, block in enumerate(net.blocks):
            for j in range(4):
                conv = getattr(block, f"conv{j}")
                prefix = f"dense{i}/conv{j}"
                if isinstance(conv, nn.Conv2d):
                    conv.weight.copy_(take(f"{prefix}/W", conv.weight.shape))
                    conv.bias.copy_(take(f"{prefix}/B", conv.bias.shape))
                else:
                    conv.depthwise.weight.copy_(take(f"{prefix}/depthwise/W", conv.depthwise.weight.shape))
                    conv.pointwise.weight.copy_(take(f"{prefix}/pointwise/W", conv.pointwise.weight.shape))
                    conv.pointwise.bias.copy_(take(f"{prefix}/pointwise/B", conv.pointwise.bias.shape))
        net.fc.weight.copy_(take("fc/weights", (net.widths[-1], POINTS * 2)).t())
        net.fc.bias.copy_(take("fc/bias", (POINTS * 2,)))


def load_checkpoint(path: str) -> Tuple[LandmarkNet, Dict]:
    """The eval-mode network saved in a checkpoint (best.pt: the weight average) and the checkpoint dict."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    net = LandmarkNet(ck["widths"])
    net.load_state_dict(ck["model"])
    return net.eval(), ck


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


assert INPUT_SIZE == 112
