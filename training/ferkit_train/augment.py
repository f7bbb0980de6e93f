"""Batched augmentation on tensors (fast on CPU and GPU alike): affine jitter, flip, light, erasing."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentOptions:
    rotate_deg: float = 15.0
    scale: float = 0.15  # zoom in [1 - scale, 1 + scale]
    shift: float = 0.1  # translation as a fraction of the image side
    flip: bool = True
    brightness: float = 0.25  # additive, in units of the pixel range
    contrast: float = 0.25  # multiplicative around the mean
    erase_p: float = 0.5
    erase_area: tuple = (0.02, 0.2)


def augment(x: torch.Tensor, o: AugmentOptions, g: torch.Generator) -> torch.Tensor:
    """x: (N, 1, H, W) float pixels 0..255 -> augmented copy, same range.

    Random draws come from the CPU generator `g` whatever x's device, then move to it: the same seed
    gives the same augmentations on a CPU and on a GPU.
    """
    n, _, h, w = x.shape
    dev = x.device

    def rand(*size: int) -> torch.Tensor:
        return torch.rand(size, generator=g).to(dev)

    def u(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * rand(n)

    ang = u(-o.rotate_deg, o.rotate_deg) * math.pi / 180
    s = 1.0 / u(1 - o.scale, 1 + o.scale)
    fl = torch.where(rand(n) < 0.5, -1.0, 1.0) if o.flip else torch.ones(n, device=dev)
    cos, sin = torch.cos(ang) * s, torch.sin(ang) * s
    theta = torch.stack(
        [torch.stack([cos * fl, -sin, u(-o.shift, o.shift) * 2], 1), torch.stack([sin * fl, cos, u(-o.shift, o.shift) * 2], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * u(1 - o.contrast, 1 + o.contrast).view(n, 1, 1, 1) + mean
    x = x + u(-o.brightness, o.brightness).view(n, 1, 1, 1) * 255
    x = x.clamp(0, 255)

    if o.erase_p > 0:
        area = u(*o.erase_area) * h * w
        aspect = torch.exp(u(math.log(0.3), math.log(3.3)))
        eh = (area * aspect).sqrt().clamp(1, h).long()
        ew = (area / aspect).sqrt().clamp(1, w).long()
        y0 = (rand(n) * (h - eh + 1)).long()
        x0 = (rand(n) * (w - ew + 1)).long()
        ys = torch.arange(h, device=dev).view(1, h, 1)
        xs = torch.arange(w, device=dev).view(1, 1, w)
        box = (ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1)) & (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1))
        box &= (rand(n) < o.erase_p).view(n, 1, 1)
        noise = rand(*x.shape) * 255
        x = torch.where(box.unsqueeze(1), noise, x)
    return x


def flip(x: torch.Tensor) -> torch.Tensor:
    return torch.flip(x, dims=[3])
