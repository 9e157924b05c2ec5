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


# ----------------------------------------------------------------------------------------------
# A small decoder-only transformer (nanoGPT style), shared by the chapters of part "transformers".
#
# Pre-LayerNorm blocks  x += Attn(LN(x)); x += MLP(LN(x))  with MLP = Linear → GELU → Linear,
# causal multi-head attention through `F.scaled_dot_product_attention`, a final LayerNorm and an
# untied linear head; no dropout by default; GPT-2 initialization (normal std 0.02, zero biases, the
# residual projections scaled by 1/sqrt(2·n_layers) as in GPT-2 and nanoGPT).
# Position options (`pos`):
#   "learned"  absolute embedding table of `max_len` rows, indices shifted by `pos_offset`;
#   "none"     NoPE: the causal mask is the only position signal;
#   "rotary"   RoPE on queries and keys (base 10000): scores depend on relative positions only;
#   "alibi"    ALiBi: a per-head linear penalty −m_h·(i − j) added to the scores (Press et al. 2022).
# The module has no Python control flow that depends on tensor values, so it runs under
# `torch.func.vmap` / `functional_call` and hence in `genutils.many` (wrap it in `OffsetInput` to pass
# position offsets there). The fused CPU attention kernel has no vmap batching rule (functorch would loop
# over the models for it, forward and backward), so under vmap attention is written out as batched
# matrix products (`attention_math`, tested equal to the fused kernel).

import math
import warnings

warnings.filterwarnings("ignore", message=r".*batching rule for aten::_scaled_dot_product.*")

POS_OPTIONS = ("learned", "none", "rotary", "alibi")


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE on the last dimension (split in halves): (x1, x2) → (x1 cos − x2 sin, x1 sin + x2 cos)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """ALiBi head slopes 2^(−8(h+1)/H), h = 0..H−1 (the paper's geometric sequence)."""
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / n_heads) for h in range(n_heads)])


def _is_batched(t: torch.Tensor) -> bool:
    """True inside `torch.func.vmap` (the tensor is a functorch batched wrapper)."""
    try:
        return bool(torch._C._functorch.is_batchedtensor(t))
    except AttributeError:  # pragma: no cover - older torch
        return False


def attention_math(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
                   causal: bool) -> torch.Tensor:
    """softmax(q kᵀ/√d + mask) v with the causal mask: what `F.scaled_dot_product_attention` computes.

    Used under vmap, where the fused CPU kernel has no batching rule and functorch would loop over the
    models one slice at a time (and its backward would copy every slice into a full-size zero tensor).
    """
    T = q.shape[-2]
    scores = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
    if mask is not None:
        scores = scores + mask
    if causal:
        future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(-1) @ v


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with the fused kernel; optional RoPE or ALiBi."""

    def __init__(self, d_model: int, n_heads: int, pos: str, dropout: float = 0.0):
        super().__init__()
        self.n_heads, self.head_dim, self.pos, self.dropout = n_heads, d_model // n_heads, pos, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        if pos == "rotary":
            inv = 1.0 / 10000 ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim)
            self.register_buffer("inv_freq", inv, persistent=False)
        if pos == "alibi":
            self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)
        q, k, v = (t.reshape(B, T, self.n_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        mask, causal = None, True
        if self.pos == "rotary":
            angles = positions.to(q.dtype)[:, None, :, None] * self.inv_freq  # (B, 1, T, hd/2)
            cos, sin = angles.cos(), angles.sin()
            q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        elif self.pos == "alibi":
            i = torch.arange(T, device=x.device)
            dist = (i[:, None] - i[None, :]).to(q.dtype)  # i − j
            bias = -self.slopes.to(q.dtype)[:, None, None] * dist  # (H, T, T)
            mask = bias.masked_fill(dist < 0, float("-inf"))
            causal = False
        p = self.dropout if self.training else 0.0
        if _is_batched(q):  # under vmap: the same attention written out (batched matmuls, no fallback loop)
            y = attention_math(q, k, v, mask, causal)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, dropout_p=p)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    """Pre-LN transformer block: x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, pos: str, dropout: float = 0.0):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, pos, dropout)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x), positions))
        return x + self.drop(self.mlp(self.ln2(x)))


class TinyGPT(nn.Module):
    """A small causal decoder: token ids (or ready-made input vectors) → next-token logits.

    `TinyGPT(vocab_size, d_model, n_layers, n_heads, d_ff, max_len, pos)`; `pos` is one of
    `POS_OPTIONS` ("learned", "none", "rotary", "alibi"). `vocab_size=0` drops the token
    embedding (inputs only as `embeds`); `in_dim` adds a linear read-in so `embeds` may be
    (B, T, in_dim) vectors (real-valued tokens, trained with the model); `out_dim` sets the
    head's width (default `vocab_size`; 0 = no head, the final hidden state is returned).
    `dropout` is for single-model training only (vmap, hence `genutils.many`, refuses randomness).
    """

    def __init__(self, vocab_size: int, d_model: int = 64, n_layers: int = 2, n_heads: int = 4, d_ff: int = 256,
                 max_len: int = 160, pos: str = "learned", *, in_dim: int | None = None,
                 out_dim: int | None = None, dropout: float = 0.0):
        super().__init__()
        if pos not in POS_OPTIONS:
            raise ValueError(f"pos must be one of {POS_OPTIONS}, got {pos!r}")
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not divisible by n_heads {n_heads}")
        if pos == "rotary" and (d_model // n_heads) % 2:
            raise ValueError(f"rotary positions need an even head dimension, got {d_model // n_heads}")
        if vocab_size < 0 or max_len < 1 or n_layers < 1:
            raise ValueError("vocab_size must be >= 0, max_len and n_layers >= 1")
        self.vocab_size, self.d_model, self.max_len, self.pos = vocab_size, d_model, max_len, pos
        self.config = dict(vocab_size=vocab_size, d_model=d_model, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff,
                           max_len=max_len, pos=pos, in_dim=in_dim, out_dim=out_dim, dropout=dropout)
        self.wte = nn.Embedding(vocab_size, d_model) if vocab_size else None
        self.read_in = nn.Linear(in_dim, d_model) if in_dim else None
        self.wpe = nn.Embedding(max_len, d_model) if pos == "learned" else None
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_ff, pos, dropout) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)
        width = vocab_size if out_dim is None else out_dim
        self.head = nn.Linear(d_model, width, bias=False) if width else None
        self._init_weights(n_layers)

    def _init_weights(self, n_layers: int) -> None:
        residual = 0.02 / math.sqrt(2 * n_layers)
        for name, m in self.named_modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                std = residual if name.endswith(("attn.proj", "mlp.2")) else 0.02
                nn.init.normal_(m.weight, mean=0.0, std=std)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, idx: torch.Tensor | None = None, embeds: torch.Tensor | None = None,
                pos_offset: torch.Tensor | None = None, return_hidden: bool = False):
        """Logits (B, T, out) from token ids `idx` (B, T) or input vectors `embeds` (B, T, d_model or in_dim).

        A floating-point `idx` is read as `embeds` (so a single tensor argument works under
        `genutils.many`). `pos_offset` (B,) shifts every row's position indices (learned and
        rotary positions); `return_hidden=True` returns (logits, final hidden state).
        """
        if idx is not None and idx.is_floating_point():
            idx, embeds = None, idx
        if (idx is None) == (embeds is None):
            raise ValueError("pass exactly one of idx (token ids) and embeds (input vectors)")
        if idx is not None:
            if self.wte is None:
                raise ValueError("this TinyGPT has vocab_size 0: pass embeds")
            h = self.wte(idx)
        else:
            h = self.read_in(embeds) if self.read_in is not None else embeds
            if h.shape[-1] != self.d_model:
                raise ValueError(f"embeds must have width {self.d_model} (or in_dim), got {embeds.shape[-1]}")
        B, T = h.shape[0], h.shape[1]
        if T > self.max_len and self.pos == "learned":
            raise ValueError(f"sequence length {T} exceeds max_len {self.max_len}")
        positions = torch.arange(T, device=h.device).expand(B, T)
        if pos_offset is not None:
            positions = positions + pos_offset.to(positions.device).long()[:, None]
        if self.wpe is not None:
            h = h + self.wpe(positions)
        h = self.drop(h)
        for block in self.blocks:
            h = block(h, positions)
        h = self.ln_f(h)
        out = self.head(h) if self.head is not None else h
        return (out, h) if return_hidden else out


class OffsetInput(nn.Module):
    """Wrap a TinyGPT so one LongTensor carries the offsets: column 0 of x (B, 1+T) is each row's
    `pos_offset`, columns 1.. the tokens. `genutils.many` passes a single tensor to its models; this
    is how offset training runs there (`genutils.training.pack` builds such inputs)."""

    def __init__(self, model: TinyGPT):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x[:, 1:], pos_offset=x[:, 0])
