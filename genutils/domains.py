"""A multi-domain data family: the class content is kept, the style of each domain changes.

Two carriers, both offline:

* **signals** (`render1d`, `domain1d`): MNIST-1D's ten 12-point templates rendered to 40 points by
  MNIST-1D's own transform (pad, dilate, scale, translate, correlated background noise, iid noise,
  shear), vectorized, with each transform's range a style field so that domains can differ in it,
  plus domain descriptors that MNIST-1D lacks (gain, offset, a background wave, blur).
  `subpopulations` makes template variants per class, so domains ("regions") can mix them differently.
* **images** (`digit_images`, `render_digits`, `rotate`): scikit-learn's bundled 8×8 digits drawn in
  three channels with foreground/background colours, blur, a grating texture, noise and rotation.

Shared by both: `correlated_values` (a spurious attribute whose agreement with the label is a
parameter), `cue_block` (that attribute as extra input features) and `corrupt` (fixed corruptions).
`Style1D` and `ImageStyle` are frozen dataclasses with `lerp`, so a chapter can interpolate,
extrapolate and drift between domains. Randomness comes from a `numpy.random.Generator` (or an int
seed); outputs are torch tensors (float32 inputs, int64 labels).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

TEMPLATE_LEN = 12
SIGNAL_LEN = 40
PADDING = (36, 60)
_DILATED = TEMPLATE_LEN + PADDING[1]
_EPS = 1e-8

Seed = int | np.random.Generator


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


class _Lerp:
    def lerp(self, other: "_Lerp", t: float):
        """The style a fraction `t` of the way to `other` (t outside [0, 1] extrapolates).

        Every numeric field moves linearly; integer fields are rounded; tuples move elementwise.
        """
        if type(other) is not type(self):
            raise TypeError(f"cannot interpolate {type(self).__name__} with {type(other).__name__}")
        changes = {}
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, tuple):
                changes[f.name] = tuple(float(u + (v - u) * t) for u, v in zip(a, b))
            elif isinstance(a, bool) or a is None or b is None:
                if a != b:
                    raise ValueError(f"field {f.name!r} differs ({a!r} vs {b!r}) and cannot be interpolated")
            elif isinstance(a, int):
                changes[f.name] = int(round(a + (b - a) * t))
            else:
                changes[f.name] = float(a + (b - a) * t)
        return dataclasses.replace(self, **changes)


# ----------------------------------------------------------------------------------------------
# Signals (MNIST-1D)
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Style1D(_Lerp):
    """How one domain renders a template. The defaults are MNIST-1D's own arguments.

    Within-domain variation (MNIST-1D's transform, drawn per sample): `scale` (amplitude factor
    uniform in 1 ± scale/2), `max_translation` (circular shift uniform in 0 … max_translation − 1),
    `corr_noise` (s.d. of the smoothed noise that fills the padding), `iid_noise`, `shear` (slope
    uniform in ± shear/2). Domain descriptors, applied after it: `blur` (Gaussian s.d. in points),
    then × `gain`, + `offset`, + a background wave `wave_amp`·sin(2π·`wave_freq`·t + φ) over
    t ∈ [0, 1), φ = `wave_phase` or, if None, uniform per sample.
    """
    scale: float = 0.4
    max_translation: int = 48
    corr_noise: float = 0.25
    iid_noise: float = 0.02
    shear: float = 0.75
    gain: float = 1.0
    offset: float = 0.0
    wave_amp: float = 0.0
    wave_freq: float = 1.0
    wave_phase: float | None = None
    blur: float = 0.0

    def __post_init__(self) -> None:
        for name in ("scale", "corr_noise", "iid_noise", "shear", "wave_amp", "blur"):
            if getattr(self, name) < 0:
                raise ValueError(f"Style1D.{name} must be >= 0, got {getattr(self, name)}")
        if not 1 <= self.max_translation <= _DILATED:
            raise ValueError(f"Style1D.max_translation must be in [1, {_DILATED}], got {self.max_translation}")


def mnist1d_templates() -> np.ndarray:
    """MNIST-1D's ten class templates, 10 × 12, as the `mnist1d` package defines them."""
    from mnist1d.data import get_templates

    return np.asarray(get_templates()["x"], dtype=np.float64)


def subpopulations(n_sub: int, spread: float, seed: Seed, templates: np.ndarray | None = None) -> np.ndarray:
    """Template variants per class, 10 × n_sub × 12: v[c, s] = x_c + spread·sd(x_c)·h[c, s].

    h[c, 0] = 0 (variant 0 is the template itself); the others are smooth random curves over the
    12 template points (a sum of three sinusoids of at most 3 cycles, random phases), scaled to
    unit variance, so `spread` is the variant's displacement in template standard deviations.
    """
    if n_sub < 1:
        raise ValueError(f"n_sub must be >= 1, got {n_sub}")
    if spread < 0:
        raise ValueError(f"spread must be >= 0, got {spread}")
    x = mnist1d_templates() if templates is None else np.asarray(templates, dtype=np.float64)
    rng = _rng(seed)
    k = x.shape[0]
    t = np.linspace(0, 1, x.shape[1])
    freq = rng.uniform(0.5, 3.0, (k, n_sub, 3, 1))
    phase = rng.uniform(0, 2 * np.pi, (k, n_sub, 3, 1))
    h = np.sin(2 * np.pi * freq * t + phase).sum(axis=2)
    h = (h - h.mean(-1, keepdims=True)) / h.std(-1, keepdims=True)
    h[:, 0] = 0.0
    return x[:, None, :] + spread * x.std(-1)[:, None, None] * h


class Draws1D(NamedTuple):
    """The per-sample random numbers of one rendering (standard uniforms and normals)."""
    pad: np.ndarray        # (n,) padding length in PADDING[0] … PADDING[1]
    scale: np.ndarray      # (n,) U(0, 1)
    shift: np.ndarray      # (n,) translation in 0 … max_translation − 1
    corr: np.ndarray       # (n, 72) N(0, 1) before smoothing
    iid: np.ndarray        # (n, 72) N(0, 1)
    shear: np.ndarray      # (n,) U(0, 1)
    phase: np.ndarray      # (n,) U(0, 2π) for the background wave


def draw1d(n: int, style: Style1D, seed: Seed) -> Draws1D:
    """Fresh random numbers for `n` samples rendered in `style`."""
    rng = _rng(seed)
    lo, hi = PADDING
    return Draws1D(pad=rng.integers(lo, hi + 1, n), scale=rng.random(n),
                   shift=rng.integers(0, style.max_translation, n), corr=rng.standard_normal((n, _DILATED)),
                   iid=rng.standard_normal((n, _DILATED)), shear=rng.random(n),
                   phase=rng.uniform(0, 2 * np.pi, n))


def _interp_rows(x: np.ndarray, lengths: np.ndarray, n_out: int) -> np.ndarray:
    """Row i's first lengths[i] values, linearly resampled to n_out points over [0, 1]."""
    pos = np.linspace(0, 1, n_out)[None, :] * (lengths[:, None] - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, x.shape[1] - 2)
    frac = pos - lo
    left = np.take_along_axis(x, lo, 1)
    right = np.take_along_axis(x, lo + 1, 1)
    return left + frac * (right - left)


def render1d(shapes: np.ndarray, style: Style1D, draws: Draws1D) -> np.ndarray:
    """Render templates (n × 12, one per sample) to n × 40 signals with given random numbers.

    The first steps are MNIST-1D's `transform` (tests replay its random numbers and get its output);
    the domain descriptors of `style` follow. Not normalised: chapters standardise with
    training-set statistics.
    """
    shapes = np.asarray(shapes, dtype=np.float64)
    n = shapes.shape[0]
    if shapes.ndim != 2 or shapes.shape[1] != TEMPLATE_LEN:
        raise ValueError(f"shapes must be n × {TEMPLATE_LEN}, got {shapes.shape}")
    padded = np.zeros((n, _DILATED + 1))
    padded[:, :TEMPLATE_LEN] = shapes + _EPS
    x = _interp_rows(padded, TEMPLATE_LEN + draws.pad, _DILATED)
    x = x * (1 + style.scale * (draws.scale[:, None] - 0.5))
    idx = (np.arange(_DILATED)[None, :] - draws.shift[:, None]) % _DILATED
    x = np.take_along_axis(x, idx, 1)
    background = gaussian_filter1d(style.corr_noise * draws.corr, 2, axis=1)
    x = np.where(x != 0, x, background) + style.iid_noise * draws.iid
    x = x - (style.shear * (draws.shear[:, None] - 0.5)) * np.linspace(-0.5, 0.5, _DILATED)[None, :]
    x = _interp_rows(x, np.full(n, _DILATED), SIGNAL_LEN)
    if style.blur > 0:
        x = gaussian_filter1d(x, style.blur, axis=1, mode="nearest")
    t = np.arange(SIGNAL_LEN) / SIGNAL_LEN
    phase = draws.phase[:, None] if style.wave_phase is None else style.wave_phase
    return style.gain * x + style.offset + style.wave_amp * np.sin(2 * np.pi * style.wave_freq * t + phase)


class Domain(NamedTuple):
    """One domain's samples: inputs, labels and the subpopulation (template variant) of each."""
    x: torch.Tensor
    y: torch.Tensor
    sub: torch.Tensor


def domain1d(n: int, style: Style1D, seed: Seed, *, templates: np.ndarray | None = None,
             mixture: np.ndarray | None = None, balanced: bool = True) -> Domain:
    """`n` samples of one signal domain: labels, a template variant per sample, then `render1d`.

    `templates` is 10 × 12 or 10 × S × 12 (from `subpopulations`); `mixture` gives the variant
    weights, S or 10 × S (default uniform). `balanced` gives every class ⌊n/10⌋ or ⌈n/10⌉ samples
    in random order; otherwise labels are uniform draws.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = _rng(seed)
    tpl = mnist1d_templates() if templates is None else np.asarray(templates, dtype=np.float64)
    if tpl.ndim == 2:
        tpl = tpl[:, None, :]
    k, s = tpl.shape[:2]
    w = np.full((k, s), 1 / s) if mixture is None else np.broadcast_to(np.asarray(mixture, float), (k, s))
    if (w < 0).any() or not np.allclose(w.sum(-1), 1):
        raise ValueError("mixture weights must be non-negative and sum to 1 per class")
    y = rng.permutation(np.arange(n) % k) if balanced else rng.integers(0, k, n)
    cum = np.cumsum(w, -1)[y]
    sub = np.minimum((rng.random(n)[:, None] > cum).sum(-1), s - 1)
    x = render1d(tpl[y, sub], style, draw1d(n, style, rng))
    return Domain(torch.tensor(x, dtype=torch.float32), torch.tensor(y), torch.tensor(sub))


# ----------------------------------------------------------------------------------------------
# Images (scikit-learn digits)
# ----------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float64), d.target.astype(np.int64)


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits: 1,797 intensity images 8 × 8 in [0, 1] and their labels (copies)."""
    images, labels = _digits()
    return images.copy(), labels.copy()


@dataclass(frozen=True)
class ImageStyle(_Lerp):
    """How one domain draws a digit: x_c = b_c + (f_c − b_c)·I + grating·g·(1 − I) + noise.

    I is the intensity after rotation by `rotation` ± U(`rotation_jitter`) degrees and Gaussian
    `blur` (s.d. in pixels); g ∈ [0, 1] is a sinusoidal grating of period `grating_period` pixels
    with random orientation and phase per image; `jitter` moves f and b per image by U(±jitter).
    """
    fg: tuple[float, float, float] = (1.0, 1.0, 1.0)
    bg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    blur: float = 0.0
    grating: float = 0.0
    grating_period: float = 4.0
    noise: float = 0.0
    jitter: float = 0.0
    rotation: float = 0.0
    rotation_jitter: float = 0.0

    def __post_init__(self) -> None:
        for name in ("blur", "grating", "noise", "jitter", "rotation_jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"ImageStyle.{name} must be >= 0, got {getattr(self, name)}")
        if self.grating_period <= 0:
            raise ValueError(f"ImageStyle.grating_period must be > 0, got {self.grating_period}")
        if len(self.fg) != 3 or len(self.bg) != 3:
            raise ValueError("ImageStyle.fg and .bg must be RGB triples")


def rotate(images: np.ndarray | torch.Tensor, degrees: np.ndarray | float) -> torch.Tensor:
    """Rotate n × H × W images about their centres (bilinear, zero fill, same size), counter-clockwise."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    if x.ndim != 3:
        raise ValueError(f"images must be n × H × W, got {tuple(x.shape)}")
    theta = torch.as_tensor(np.broadcast_to(np.asarray(degrees, float), (x.shape[0],)).copy(),
                            dtype=torch.float32) * (np.pi / 180)
    c, s = torch.cos(theta), torch.sin(theta)
    zero = torch.zeros_like(c)
    # grid_sample maps output coordinates to input ones, so the matrix is the inverse rotation
    # (in (x, y) with y pointing down, a counter-clockwise turn on screen).
    affine = torch.stack([torch.stack([c, -s, zero], -1), torch.stack([s, c, zero], -1)], 1)
    grid = torch.nn.functional.affine_grid(affine, [x.shape[0], 1, *x.shape[1:]], align_corners=False)
    out = torch.nn.functional.grid_sample(x[:, None], grid, mode="bilinear", padding_mode="zeros",
                                          align_corners=False)
    return out[:, 0]


def render_digits(images: np.ndarray, style: ImageStyle, seed: Seed, *, fg: np.ndarray | None = None
                  ) -> torch.Tensor:
    """Draw n × 8 × 8 intensity images as n × 3 × 8 × 8 images in `style`.

    `fg` (n × 3) overrides the style's foreground colour per image (a colour that depends on the
    label, say); jitter is added to it as to the style's own.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"images must be n × H × W, got {images.shape}")
    rng = _rng(seed)
    n, h, w = images.shape
    angle = style.rotation + style.rotation_jitter * rng.uniform(-1, 1, n)
    intensity = images
    if style.rotation or style.rotation_jitter:
        intensity = rotate(images, angle).numpy().astype(np.float64)
    if style.blur > 0:
        intensity = gaussian_filter1d(gaussian_filter1d(intensity, style.blur, axis=1), style.blur, axis=2)
    f = np.broadcast_to(np.asarray(style.fg if fg is None else fg, float), (n, 3))
    if f.shape != (n, 3):
        raise ValueError(f"fg must be n × 3, got {np.shape(fg)}")
    f = f + style.jitter * rng.uniform(-1, 1, (n, 3))
    b = np.asarray(style.bg, float) + style.jitter * rng.uniform(-1, 1, (n, 3))
    i = intensity[:, None]
    x = b[:, :, None, None] + (f - b)[:, :, None, None] * i
    if style.grating > 0:
        orient = rng.uniform(0, np.pi, n)[:, None, None]
        phase = rng.uniform(0, 2 * np.pi, n)[:, None, None]
        yy, xx = np.mgrid[0:h, 0:w]
        g = 0.5 * (1 + np.sin(2 * np.pi * (xx * np.cos(orient) + yy * np.sin(orient)) / style.grating_period
                              + phase))
        x = x + style.grating * g[:, None] * (1 - i)
    if style.noise > 0:
        x = x + style.noise * rng.standard_normal(x.shape)
    return torch.tensor(x, dtype=torch.float32)


def palette(n: int) -> np.ndarray:
    """`n` well-separated saturated colours (evenly spaced hues), n × 3 in [0, 1]."""
    import colorsys

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return np.array([colorsys.hsv_to_rgb(k / n, 0.85, 0.95) for k in range(n)])


# ----------------------------------------------------------------------------------------------
# Spurious attributes and corruptions (both carriers)
# ----------------------------------------------------------------------------------------------

def correlated_values(y: np.ndarray | torch.Tensor, agreement: float, n_values: int, seed: Seed, *,
                      mapping: np.ndarray | None = None, exclusive: bool = False) -> np.ndarray:
    """A spurious attribute of each sample: mapping[y] with probability `agreement`, else random.

    The fallback is uniform over all `n_values` values, so the attribute equals mapping[y] with
    probability agreement + (1 − agreement)/n_values; with `exclusive` it is uniform over the other
    values, and the probability is exactly `agreement`. `mapping` defaults to the identity.
    """
    if not 0 <= agreement <= 1:
        raise ValueError(f"agreement must be in [0, 1], got {agreement}")
    y = np.asarray(y, dtype=np.int64)
    m = np.arange(n_values) if mapping is None else np.asarray(mapping, dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() >= len(m)):
        raise ValueError(f"labels must index the mapping (length {len(m)})")
    if m.min() < 0 or m.max() >= n_values:
        raise ValueError(f"mapping values must lie in 0 … {n_values - 1}")
    rng = _rng(seed)
    target = m[y]
    keep = rng.random(y.shape) < agreement
    if exclusive:
        other = (target + rng.integers(1, n_values, y.shape)) % n_values
    else:
        other = rng.integers(0, n_values, y.shape)
    return np.where(keep, target, other)


def cue_block(values: np.ndarray, n_values: int, strength: float, noise: float, seed: Seed) -> torch.Tensor:
    """The attribute as input features: strength·onehot(value) + N(0, noise²), n × n_values."""
    values = np.asarray(values, dtype=np.int64)
    rng = _rng(seed)
    out = strength * np.eye(n_values)[values] + noise * rng.standard_normal((len(values), n_values))
    return torch.tensor(out, dtype=torch.float32)


CORRUPTIONS = ("noise", "blur", "mask", "contrast")


def corrupt(x: torch.Tensor, kind: str, level: float, seed: Seed, *, target: float = 0.5) -> torch.Tensor:
    """A fixed corruption of signals (n × L) or images (n × C × H × W).

    `noise`: + N(0, level²); `blur`: box blur of width round(level) along each spatial axis (edge
    values repeated); `mask`: a fraction `level` of positions set to 0 (the same positions in every
    channel); `contrast`: x·(1 − level) + level·`target`, a fade towards a constant (mid-grey for
    images in [0, 1]; `target` 1 with level 0.5 halves the amplitude and adds 0.5).
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}; choose from {CORRUPTIONS}")
    if level < 0 or (kind in ("mask", "contrast") and level > 1):
        raise ValueError(f"level {level} out of range for corruption {kind!r}")
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be n × L or n × C × H × W, got {tuple(x.shape)}")
    rng = _rng(seed)
    spatial = (1,) if x.ndim == 2 else (2, 3)
    if kind == "noise":
        return x + level * torch.tensor(rng.standard_normal(tuple(x.shape)), dtype=x.dtype)
    if kind == "blur":
        width = int(round(level))
        out = x
        if width <= 1:
            return out
        left = (width - 1) // 2
        for axis in spatial:
            idx = torch.arange(x.shape[axis])
            out = sum(out.index_select(axis, (idx + off).clamp(0, x.shape[axis] - 1))
                      for off in range(-left, width - left)) / width
        return out
    if kind == "mask":
        shape = [x.shape[0], *(x.shape[a] for a in spatial)]
        keep = torch.tensor(rng.random(shape) >= level)
        return x * (keep if x.ndim == 2 else keep[:, None]).to(x.dtype)
    return x * (1 - level) + level * target
