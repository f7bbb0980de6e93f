"""The paper's two families: a VGG-style CNN and a ResNet (basic and bottleneck residual blocks).

Both take raw grey pixels (N, 1, 48, 48) in 0..255 and normalise inside the graph, so every host
feeds the same numbers and the preprocessing lives in exactly one place.
"""
from __future__ import annotations

from typing import List, Sequence, Union

import torch
from torch import nn

from . import LABELS

PIXEL_MEAN = 128.0
PIXEL_STD = 64.0


class Normalize(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - PIXEL_MEAN) / PIXEL_STD


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers: List[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """y = relu(F(x) + h(x)), F = two 3x3 convs; h = identity or a 1x1 projection."""

    expansion = 1

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * self.expansion
        self.f = nn.Sequential(conv_bn(cin, width, 3, stride), conv_bn(width, cout, 3, 1, relu=False))
        self.h = nn.Identity() if stride == 1 and cin == cout else conv_bn(cin, cout, 1, stride, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.f(x) + self.h(x))


class Bottleneck(nn.Module):
    """y = relu(F(x) + h(x)), F = 1x1 reduce, 3x3, 1x1 expand (x4)."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * self.expansion
        self.f = nn.Sequential(
            conv_bn(cin, width, 1), conv_bn(width, width, 3, stride), conv_bn(width, cout, 1, relu=False)
        )
        nn.init.zeros_(self.f[-1][1].weight)  # start each block as identity: stabler early training
        self.h = nn.Identity() if stride == 1 and cin == cout else conv_bn(cin, cout, 1, stride, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.f(x) + self.h(x))


class ResNet(nn.Module):
    def __init__(
        self,
        widths: Sequence[int] = (64, 128, 256),
        depths: Sequence[int] = (2, 2, 2),
        block: str = "basic",
        stem_width: int = 32,
        stem_stride: int = 2,
        dropout: float = 0.3,
        num_classes: int = len(LABELS),
    ) -> None:
        super().__init__()
        Block = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        layers: List[nn.Module] = [Normalize(), conv_bn(1, stem_width, 3, stem_stride)]
        cin = stem_width
        for i, (w, d) in enumerate(zip(widths, depths)):
            for j in range(d):
                stride = 2 if (j == 0 and i > 0) else 1
                layers.append(Block(cin, w, stride))
                cin = w * Block.expansion
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class VGG(nn.Module):
    """Plain stacked 3x3 conv-BN-ReLU with max pooling ('M'), global pooling and a small classifier."""

    def __init__(
        self, cfg: Sequence[Union[int, str]] = (32, "M", 64, 64, "M", 128, 128, "M", 256, 256), dropout: float = 0.4,
        num_classes: int = len(LABELS),
    ) -> None:
        super().__init__()
        layers: List[nn.Module] = [Normalize()]
        cin = 1
        for c in cfg:
            if c == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers.append(conv_bn(cin, int(c)))
                cin = int(c)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Ensemble(nn.Module):
    """Several trained models as one graph: the mean of their temperature-scaled log-probabilities.

    Each member's temperature (fitted on PublicTest) first brings it to calibrated confidence, so a
    sharper member does not outvote the others; the output is the log of the members' normalised
    geometric mean, which a host treats as logits (softmax of it is that mean)."""

    def __init__(self, members: Sequence[nn.Module], temperatures: Sequence[float]) -> None:
        super().__init__()
        if len(members) < 2 or len(members) != len(temperatures):
            raise ValueError("an ensemble needs two or more members, each with a temperature")
        self.members = nn.ModuleList(members)
        self.register_buffer("inverse_temperatures", torch.tensor([1.0 / t for t in temperatures]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [torch.log_softmax(m(x) * self.inverse_temperatures[i], dim=1) for i, m in enumerate(self.members)]
        return torch.stack(parts).mean(0)


def _ints(spec: str) -> List[int]:
    return [int(s) for s in spec.split(",") if s]


def build(arch: str, widths: str = "", depths: str = "", block: str = "basic", stem_width: int = 32,
          stem_stride: int = 2, vgg_cfg: str = "", dropout: float = 0.3) -> nn.Module:
    """A model from command-line style options (kept in the model card to rebuild it)."""
    if arch == "resnet":
        return ResNet(_ints(widths) or (64, 128, 256), _ints(depths) or (2, 2, 2), block, stem_width, stem_stride, dropout)
    if arch == "vgg":
        cfg = [c if c == "M" else int(c) for c in vgg_cfg.split(",")] if vgg_cfg else None
        return VGG(cfg, dropout) if cfg else VGG(dropout=dropout)
    raise ValueError(f"unknown arch {arch!r}: expected resnet or vgg")


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, size: int = 48) -> int:
    """Multiply-accumulates of one 48x48 forward pass (conv + linear), via forward hooks."""
    total = 0

    def hook(m: nn.Module, inp, out) -> None:
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, size, size))
    model.train(was_training)
    for h in handles:
        h.remove()
    return total
