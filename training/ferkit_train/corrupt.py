"""Training-time corruptions (issue 22, "robust training"): what hurts a camera's face crops.

Batched on tensors like augment.py. With probability `p` each face gets one corruption, drawn
uniformly from the families below, its strength drawn from a continuous range. The ranges and the
kernels deliberately differ from `ferkit bench robustness` (src/bench/corruption-*.ts: five fixed
severities, disk defocus, fixed-angle motion, nearest-neighbour low resolution, template-placed
masks), so the benchmark stays a test, not the training set:

- gaussian noise: sigma ~ U(2, 40) grey levels, per pixel;
- shot noise: Poisson with photons-at-white ~ logU(12, 600);
- gaussian blur: sigma ~ U(0.4, 2.2) px (a Gaussian, not the bench's disk);
- motion blur: a line of length ~ U(2, 12) px at an angle ~ U(0, 180) deg;
- low resolution: area-downsampled to a side ~ U(10, 40) px, bilinear back up;
- illumination: gamma ~ logU(0.25, 3.5) and gain ~ logU(0.25, 2.5);
- lower-face mask: a flat or noisy band from a row ~ U(0.5, 0.75) of the height to the bottom,
  grey ~ U(0, 255) (a hand, a scarf or a mask; the bench draws its own mask shape).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

FAMILIES = ("gaussian-noise", "shot-noise", "gaussian-blur", "motion-blur", "low-resolution", "illumination", "lower-mask")


@dataclass
class CorruptOptions:
    p: float = 0.0  # probability that a face is corrupted at all (0 = off)


def _blur(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Per-sample 2-D filtering: x (N,1,H,W), kernels (N,k,k) normalised -> (N,1,H,W), edges replicated."""
    n, _, h, w = x.shape
    k = kernels.shape[-1]
    padded = F.pad(x, (k // 2,) * 4, mode="replicate")
    out = F.conv2d(padded.view(1, n, h + k - 1, w + k - 1), kernels.unsqueeze(1), groups=n)
    return out.view(n, 1, h, w)


def corrupt(x: torch.Tensor, o: CorruptOptions, g: torch.Generator) -> torch.Tensor:
    """x: (N, 1, H, W) float pixels 0..255 -> a copy with about p·N faces corrupted, same range.

    Draws come from the CPU generator `g` (the same seed gives the same corruptions on any device).
    """
    if o.p <= 0:
        return x
    n, _, h, w = x.shape
    dev = x.device

    def rand(*size: int) -> torch.Tensor:
        return torch.rand(size, generator=g).to(dev)

    def u(lo: float, hi: float, size: int = n) -> torch.Tensor:
        return lo + (hi - lo) * rand(size)

    def logu(lo: float, hi: float, size: int = n) -> torch.Tensor:
        return torch.exp(u(math.log(lo), math.log(hi), size))

    family = (rand(n) * len(FAMILIES)).long().clamp(max=len(FAMILIES) - 1)
    family = torch.where(rand(n) < o.p, family, torch.full_like(family, -1))
    out = x.clone()
    col = lambda t: t.view(-1, 1, 1, 1)  # noqa: E731

    def apply(name: str, fn) -> None:
        sel = (family == FAMILIES.index(name)).nonzero().flatten()
        if sel.numel():
            out[sel] = fn(x[sel], sel.numel())

    apply("gaussian-noise", lambda t, m: t + col(u(2, 40, m)) * torch.randn(t.shape, generator=g).to(dev))
    apply("shot-noise", lambda t, m: _shot(t, col(logu(12, 600, m)), g))

    def gaussian(t: torch.Tensor, m: int) -> torch.Tensor:
        k = 9
        r = torch.arange(k, device=dev, dtype=t.dtype) - k // 2
        sig = u(0.4, 2.2, m).view(m, 1)
        g1 = torch.exp(-(r.view(1, k) ** 2) / (2 * sig**2))
        g1 = g1 / g1.sum(1, keepdim=True)
        return _blur(t, g1.unsqueeze(2) * g1.unsqueeze(1))

    def motion(t: torch.Tensor, m: int) -> torch.Tensor:
        k = 13
        length = u(2, 12, m).view(m, 1, 1)
        ang = u(0, math.pi, m).view(m, 1, 1)
        r = torch.arange(k, device=dev, dtype=t.dtype) - k // 2
        yy, xx = r.view(1, k, 1), r.view(1, 1, k)
        along = xx * torch.cos(ang) + yy * torch.sin(ang)
        across = -xx * torch.sin(ang) + yy * torch.cos(ang)
        kern = ((along.abs() <= length / 2) & (across.abs() <= 0.5)).to(t.dtype)
        return _blur(t, kern / kern.sum((1, 2), keepdim=True))

    def lowres(t: torch.Tensor, m: int) -> torch.Tensor:
        sides = u(10, 40, m).round().long()
        res = torch.empty_like(t)
        for i in range(m):
            s = int(sides[i])
            small = F.adaptive_avg_pool2d(t[i : i + 1], s)
            res[i : i + 1] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        return res

    def light(t: torch.Tensor, m: int) -> torch.Tensor:
        return (t / 255).clamp(min=1e-6) ** col(logu(0.25, 3.5, m)) * 255 * col(logu(0.25, 2.5, m))

    def mask(t: torch.Tensor, m: int) -> torch.Tensor:
        top = (u(0.5, 0.75, m) * h).long().view(m, 1, 1, 1)
        rows = torch.arange(h, device=dev).view(1, 1, h, 1)
        grey = col(u(0, 255, m)) + col(u(0, 30, m)) * torch.randn(t.shape, generator=g).to(dev)
        return torch.where(rows >= top, grey, t)

    apply("gaussian-blur", gaussian)
    apply("motion-blur", motion)
    apply("low-resolution", lowres)
    apply("illumination", light)
    apply("lower-mask", mask)
    return out.clamp(0, 255)


def _shot(t: torch.Tensor, photons: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    rate = (t / 255 * photons).clamp(min=0)
    return torch.poisson(rate.cpu(), generator=g).to(t.device) * 255 / photons
