"""Model pieces shared by chapters.

A 1-D convolution is a linear map applied to every sliding window, so it can be
written as *window extraction* (`Windows`, no parameters) followed by `nn.Linear`
on the windows, channels last. A CNN built this way is a plain `nn.Sequential` of
linear layers and parameter-free modules, which `genutils.many` trains as one
batched matrix product per layer (about ten times faster on a CPU than `vmap`
over `conv1d`). `conv1d_as_linear` checks the equivalence.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Windows(nn.Module):
    """(..., B·L, C) → (..., B·L_out, C·k): the sliding windows a 1-D convolution reads.

    With `first=True` the input is raw one-channel signals of shape (..., B, L).
    Arguments mean what they mean for `conv1d`: kernel size, stride, zero padding.
    """

    def __init__(self, length: int, kernel: int, stride: int = 1, pad: int = 0, first: bool = False):
        super().__init__()
        if kernel > length + 2 * pad:
            raise ValueError(f"kernel {kernel} is longer than the padded signal ({length} + 2·{pad})")
        self.length, self.kernel, self.stride, self.pad, self.first = length, kernel, stride, pad, first
        self.out_length = (length + 2 * pad - kernel) // stride + 1

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.first:
            lead, channels = h.shape[:-2], 1
            h = h.unsqueeze(-1)
        else:
            lead, channels = h.shape[:-2], h.shape[-1]
            h = h.reshape(*lead, -1, self.length, channels)
        h = F.pad(h, (0, 0, self.pad, self.pad))
        return h.unfold(-2, self.kernel, self.stride).reshape(*lead, -1, channels * self.kernel)


class Positions(nn.Module):
    """(..., B·L, C) → (..., B, L·C): concatenate the positions of each signal before a read-out."""

    def __init__(self, length: int):
        super().__init__()
        self.length = length

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.reshape(*h.shape[:-2], -1, self.length * h.shape[-1])


def conv1d_as_linear(windows: Windows, linear: nn.Linear, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(windowed output, `F.conv1d` output), both as (B, L_out, C_out), for a first layer on signals x (B, L)."""
    out_channels = linear.out_features
    weight = linear.weight.reshape(out_channels, windows.kernel, 1).transpose(1, 2)
    ref = F.conv1d(x[:, None], weight, linear.bias, stride=windows.stride, padding=windows.pad)
    return linear(windows(x)).reshape(x.shape[0], -1, out_channels), ref.transpose(1, 2)
