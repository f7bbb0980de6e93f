"""HELEN-style landmark data (landmarks68.json + photos + ferkit detector boxes) and the crop that ferkit's
TypeScript landmark stage takes (src/landmarks/landmark68.ts), made differentiable-free but batched in torch:

    crop   = the box clipped to the image, floored (landmarkCrop)
    square = crop centre-padded with zeros to side = max(w, h) (prepend diff - round(diff / 2))
    input  = square resized to 112 with TensorFlow's legacy bilinear mapping (src = dst * side / 112)
    target = (point - max(box.xy, 0) + (side - crop.wh) / 2) / side   (the inverse of landmarkPoints)

Augmentation warps the photo by a random similarity (rotation, scale, shift, mirror with the iBUG
re-indexing) and moves the detector box with the face, then jitters it as a detector would; the crop is
sampled from the original photo through the composite map in one bilinear step (grid_sample).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import FLIP, INPUT_SIZE, POINTS


@dataclass
class LandmarkSet:
    names: List[str]
    images: torch.Tensor  # [N, 3, H, W] uint8 (all photos the same size)
    points: torch.Tensor  # [N, 68, 2] float32, pixel coordinates (0-based pixel centres)
    boxes: torch.Tensor  # [N, 4] float32 x, y, w, h: the detector's box (or one inferred from the points)
    detected: torch.Tensor  # [N] bool: the box came from the detector

    def subset(self, idx: np.ndarray) -> "LandmarkSet":
        i = torch.as_tensor(idx, dtype=torch.long)
        return LandmarkSet([self.names[k] for k in idx], self.images[i], self.points[i], self.boxes[i], self.detected[i])


def points_box(points: torch.Tensor) -> torch.Tensor:
    lo = points.min(dim=-2).values
    hi = points.max(dim=-2).values
    return torch.cat([lo, hi - lo], dim=-1)


def fit_box_from_points(points: torch.Tensor, boxes: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Median relation detector box <- points' bounding box: (centre offset / size, size ratio)."""
    pb = points_box(points)
    centre = (boxes[:, :2] + boxes[:, 2:] / 2 - (pb[:, :2] + pb[:, 2:] / 2)) / pb[:, 2:]
    ratio = boxes[:, 2:] / pb[:, 2:]
    return centre.median(dim=0).values, ratio.median(dim=0).values


def load_set(root: str, boxes_json: str, limit: int = 0) -> LandmarkSet:
    ann_path = os.path.join(root, "landmarks68.json")
    with open(ann_path) as f:
        ann = json.load(f)
    with open(boxes_json) as f:
        det = json.load(f)["boxes"]
    names, imgs, pts, bxs, found = [], [], [], [], []
    size = None
    for name in sorted(ann):
        faces = ann[name]["faces"]
        if len(faces) != 1:
            raise ValueError(f"{ann_path}: {name} has {len(faces)} faces; this loader takes one face per photo")
        with Image.open(os.path.join(root, name)) as im:
            a = np.asarray(im.convert("RGB"))
        if size is None:
            size = a.shape
        elif a.shape != size:
            raise ValueError(f"{root}/{name}: size {a.shape[1]}x{a.shape[0]}, the others are {size[1]}x{size[0]}")
        p = np.asarray(faces[0], dtype=np.float32)
        if p.shape != (POINTS, 2):
            raise ValueError(f"{ann_path}: {name}: expected 68 [x, y] points, got shape {p.shape}")
        b = (det.get(name) or [None])[0]
        names.append(name)
        imgs.append(torch.from_numpy(a.copy()).permute(2, 0, 1))
        pts.append(torch.from_numpy(p))
        bxs.append(torch.tensor([b["x"], b["y"], b["width"], b["height"]] if b else [math.nan] * 4, dtype=torch.float32))
        found.append(b is not None)
        if limit and len(names) >= limit:
            break
    points = torch.stack(pts)
    boxes = torch.stack(bxs)
    detected = torch.tensor(found)
    if (~detected).any():
        # a face the detector missed: the box it would most likely have given, from the others
        centre, ratio = fit_box_from_points(points[detected], boxes[detected])
        pb = points_box(points[~detected])
        size_ = pb[:, 2:] * ratio
        boxes[~detected] = torch.cat([pb[:, :2] + pb[:, 2:] / 2 + centre * pb[:, 2:] - size_ / 2, size_], dim=1)
    return LandmarkSet(names, torch.stack(imgs), points, boxes, detected)


def split_holdout(names: List[str], fraction: float) -> Tuple[np.ndarray, np.ndarray]:
    """A fixed split by the photo id's hash (faces of one photo stay together): (train, holdout) indices."""
    def bucket(name: str) -> float:
        photo = name.rsplit("_", 1)[0]
        return int(hashlib.sha256(photo.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    hold = np.array([bucket(n) < fraction for n in names])
    return np.flatnonzero(~hold), np.flatnonzero(hold)


@dataclass
class Augment:
    rotate: float = 30.0  # degrees, uniform +-
    scale: float = 0.12  # log-uniform +-
    shift: float = 0.04  # box centre jitter, std in box sides
    size_jitter: float = 0.06  # box size jitter, log std
    aspect_jitter: float = 0.03
    mirror: float = 0.5
    photometric: bool = True
    occlude: float = 0.35
    noise: float = 0.3
    blur: float = 0.25
    gray: float = 0.15


def crop_geometry(boxes: torch.Tensor, width: int, height: int):
    """landmarkCrop + padToSquare for a batch of boxes: (crop origin/size ints, unfloored origin, side, prepend, pad)."""
    x0 = boxes[:, 0].clamp(min=0)
    y0 = boxes[:, 1].clamp(min=0)
    w = torch.minimum(boxes[:, 0] + boxes[:, 2] - x0, width - x0)
    h = torch.minimum(boxes[:, 1] + boxes[:, 3] - y0, height - y0)
    crop = torch.stack([x0.floor(), y0.floor(), w.floor(), h.floor()], dim=1).clamp(min=0)
    crop[:, 2:] = crop[:, 2:].clamp(min=1)
    side = crop[:, 2:].max(dim=1).values
    diff = (crop[:, 2] - crop[:, 3]).abs()
    prepend = diff - torch.round(diff * 0.5 + 1e-6)  # JS Math.round: halves go up
    prep_x = torch.where(crop[:, 3] > crop[:, 2], prepend, torch.zeros_like(prepend))
    prep_y = torch.where(crop[:, 2] > crop[:, 3], prepend, torch.zeros_like(prepend))
    pad_x = (side - crop[:, 2]) / 2  # the mapping back uses half the padding, unrounded (landmarkPoints)
    pad_y = (side - crop[:, 3]) / 2
    origin = torch.stack([x0, y0], dim=1)
    return crop, origin, side, torch.stack([prep_x, prep_y], 1), torch.stack([pad_x, pad_y], 1)


def make_batch(ds: LandmarkSet, idx: torch.Tensor, aug: Optional[Augment], gen: Optional[torch.Generator]):
    """Network inputs [B, 3, 112, 112] (0..255 float) and targets [B, 68, 2] in padded-crop units, plus the
    inter-ocular distance of each face in those units (for NME)."""
    B = idx.numel()
    _, _, H, W = ds.images.shape
    pts = ds.points[idx].clone()
    box = ds.boxes[idx].clone()
    # forward similarity p' = R p + t around the box centre; identity without augmentation
    A = torch.eye(2).repeat(B, 1, 1)
    t = torch.zeros(B, 2)
    if aug is not None:
        u = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
        n = lambda *s: torch.randn(*s, generator=gen)  # noqa: E731
        mirror = u(B) < aug.mirror
        theta = (u(B) * 2 - 1) * math.radians(aug.rotate)
        s = torch.exp((u(B) * 2 - 1) * aug.scale)
        c, si = torch.cos(theta) * s, torch.sin(theta) * s
        R = torch.stack([torch.stack([c, -si], 1), torch.stack([si, c], 1)], 1)
        M = torch.eye(2).repeat(B, 1, 1)
        M[mirror, 0, 0] = -1
        A = R @ M
        centre = box[:, :2] + box[:, 2:] / 2
        # mirror about the photo's vertical centre line x = (W - 1) / 2, then rotate/scale about the box centre
        mc = centre.clone()
        mc[mirror, 0] = (W - 1) - mc[mirror, 0]
        # p' = R (M p + m) + (mc - R mc), with m = (W - 1, 0) when mirrored
        m = torch.zeros(B, 2)
        m[mirror, 0] = W - 1
        t = (R @ m.unsqueeze(-1)).squeeze(-1) + mc - (R @ mc.unsqueeze(-1)).squeeze(-1)
        pts = (A @ pts.transpose(1, 2)).transpose(1, 2) + t.unsqueeze(1)
        pts[mirror] = pts[mirror][:, FLIP]
        # the detector's box on the warped face: same centre, grown by the rotation, then jittered
        grow = 1 + 0.35 * (torch.cos(theta).abs() + torch.sin(theta).abs() - 1)
        size = box[:, 2:] * (s * grow).unsqueeze(1)
        size = size * torch.exp(n(B, 1) * aug.size_jitter) * torch.exp(n(B, 2) * aug.aspect_jitter)
        ctr = mc + n(B, 2) * aug.shift * size
        box = torch.cat([ctr - size / 2, size], 1)
    crop, origin, side, prep, pad = crop_geometry(box, W, H)
    target = (pts - origin.unsqueeze(1) + pad.unsqueeze(1)) / side.view(B, 1, 1)
    # sampling grid: output pixel u -> square u * side / 112 -> warped photo -> original photo
    g = torch.arange(INPUT_SIZE, dtype=torch.float32)
    q = g.view(1, -1) * (side / INPUT_SIZE).view(B, 1)  # [B, 112]
    wx = crop[:, 0:1] - prep[:, 0:1] + q  # warped-photo x per column
    wy = crop[:, 1:2] - prep[:, 1:2] + q
    inside_x = (wx >= crop[:, 0:1]) & (wx <= crop[:, 0:1] + crop[:, 2:3] - 1)
    inside_y = (wy >= crop[:, 1:2]) & (wy <= crop[:, 1:2] + crop[:, 3:4] - 1)
    gx = wx.view(B, 1, -1).expand(B, INPUT_SIZE, INPUT_SIZE)
    gy = wy.view(B, -1, 1).expand(B, INPUT_SIZE, INPUT_SIZE)
    p = torch.stack([gx, gy], -1) - t.view(B, 1, 1, 2)
    Ainv = torch.linalg.inv(A)
    src = torch.einsum("bij,bhwj->bhwi", Ainv, p)
    grid = torch.stack([src[..., 0] / (W - 1) * 2 - 1, src[..., 1] / (H - 1) * 2 - 1], -1)
    img = ds.images[idx].float()
    x = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    mask = (inside_y.view(B, 1, -1, 1) & inside_x.view(B, 1, 1, -1)).float()
    x = x * mask
    if aug is not None and aug.photometric:
        x = photometric(x, aug, gen)
    iod = (target[:, 36] - target[:, 45]).norm(dim=-1)
    return x, target, iod


def photometric(x: torch.Tensor, aug: Augment, gen: Optional[torch.Generator]) -> torch.Tensor:
    B = x.shape[0]
    u = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
    # light: gain, offset, gamma, per-channel colour cast
    gain = torch.exp((u(B, 1, 1, 1) * 2 - 1) * 0.5)
    cast = torch.exp((u(B, 3, 1, 1) * 2 - 1) * 0.12)
    offset = (u(B, 1, 1, 1) * 2 - 1) * 30
    gamma = torch.exp((u(B, 1, 1, 1) * 2 - 1) * 0.4)
    x = ((x / 255).clamp(0, 1) ** gamma) * 255 * gain * cast + offset
    gray = u(B) < aug.gray
    if gray.any():
        x[gray] = x[gray].mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    blur = u(B) < aug.blur
    if blur.any():
        sigma = 0.5 + u(int(blur.sum())) * 1.8
        k = torch.arange(-4, 5, dtype=torch.float32)
        ker = torch.exp(-(k.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
        ker = ker / ker.sum(1, keepdim=True)  # [b, 9]
        xb = x[blur]
        b = xb.shape[0]
        xb = F.conv2d(F.pad(xb.reshape(1, b * 3, *xb.shape[-2:]), (4, 4, 0, 0), mode="replicate"),
                      ker.repeat_interleave(3, 0).view(b * 3, 1, 1, 9), groups=b * 3)
        xb = F.conv2d(F.pad(xb, (0, 0, 4, 4), mode="replicate"), ker.repeat_interleave(3, 0).view(b * 3, 1, 9, 1), groups=b * 3)
        x[blur] = xb.view(b, 3, *x.shape[-2:])
    noisy = u(B) < aug.noise
    if noisy.any():
        sd = 3 + u(int(noisy.sum()), 1, 1, 1) * 15
        x[noisy] = x[noisy] + torch.randn(x[noisy].shape, generator=gen) * sd
    occ = torch.nonzero(u(B) < aug.occlude).flatten().tolist()
    for i in occ:
        w = int(INPUT_SIZE * (0.15 + 0.3 * float(u(1))))
        h = int(INPUT_SIZE * (0.15 + 0.3 * float(u(1))))
        x0 = int(float(u(1)) * (INPUT_SIZE - w))
        y0 = int(float(u(1)) * (INPUT_SIZE - h))
        x[i, :, y0:y0 + h, x0:x0 + w] = u(3, 1, 1) * 255
    return x.clamp(0, 255)
