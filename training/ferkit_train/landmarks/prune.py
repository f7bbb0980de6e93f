"""Structured channel pruning of a trained LandmarkNet to narrower widths, as the start of a fine-tune.

Within a dense block every convolution's output is summed with the others', so a block has one set of
channels: pruning keeps, per block, the channels that carry the most weight — the L1 norm of every
filter that writes the channel and of every weight that reads it, each layer's norms scaled to mean
1 so that no layer dominates — and copies the surviving weights. The result is the same function
restricted to those channels: an approximation that a short fine-tune (train.py --init-checkpoint)
recovers, far closer than random initialisation to the trained network.
"""
from __future__ import annotations

from typing import List, Sequence

import torch
from torch import nn

from .net import LandmarkNet, SeparableConv


def _norm(v: torch.Tensor) -> torch.Tensor:
    return v / v.mean().clamp_min(1e-12)


def channel_importance(net: LandmarkNet) -> List[torch.Tensor]:
    """Per block, one score per output channel (higher = keep)."""
    scores = []
    for i, block in enumerate(net.blocks):
        s = torch.zeros(net.widths[i])
        for j in range(4):
            conv = getattr(block, f"conv{j}")
            writer = conv.weight if isinstance(conv, nn.Conv2d) else conv.pointwise.weight
            s += _norm(writer.detach().abs().flatten(1).sum(1))
            if j > 0:  # conv1..3 read the block's channels
                s += _norm(conv.depthwise.weight.detach().abs().flatten(1).sum(1))
                s += _norm(conv.pointwise.weight.detach().abs().sum((0, 2, 3)))
        if i + 1 < len(net.blocks):
            nxt = net.blocks[i + 1].conv0
            s += _norm(nxt.depthwise.weight.detach().abs().flatten(1).sum(1))
            s += _norm(nxt.pointwise.weight.detach().abs().sum((0, 2, 3)))
        else:
            s += _norm(net.fc.weight.detach().abs().sum(0))
        scores.append(s)
    return scores


def _copy_separable(dst: SeparableConv, src: SeparableConv, cin: torch.Tensor, cout: torch.Tensor) -> None:
    dst.depthwise.weight.copy_(src.depthwise.weight[cin])
    dst.pointwise.weight.copy_(src.pointwise.weight[cout][:, cin])
    dst.pointwise.bias.copy_(src.pointwise.bias[cout])


@torch.no_grad()
def prune_landmark_net(net: LandmarkNet, widths: Sequence[int]) -> LandmarkNet:
    """A LandmarkNet of `widths` (each ≤ the source's) holding `net`'s most important channels."""
    widths = tuple(int(w) for w in widths)
    if len(widths) != len(net.widths) or any(w < 1 or w > s for w, s in zip(widths, net.widths)):
        raise ValueError(f"cannot prune widths {net.widths} to {widths}: need {len(net.widths)} widths, each 1..the source's")
    keep = [torch.sort(torch.topk(s, w).indices).values for s, w in zip(channel_importance(net), widths)]
    out = LandmarkNet(widths)
    for i, (dst, src) in enumerate(zip(out.blocks, net.blocks)):
        k = keep[i]
        if i == 0:
            dst.conv0.weight.copy_(src.conv0.weight[k])
            dst.conv0.bias.copy_(src.conv0.bias[k])
        else:
            _copy_separable(dst.conv0, src.conv0, keep[i - 1], k)
        for j in (1, 2, 3):
            _copy_separable(getattr(dst, f"conv{j}"), getattr(src, f"conv{j}"), k, k)
    out.fc.weight.copy_(net.fc.weight[:, keep[-1]])
    out.fc.bias.copy_(net.fc.bias)
    return out.eval()
