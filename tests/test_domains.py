"""genutils.domains: known styles give known transforms; spurious correlations are what was asked."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import genutils.domains as D


def _mnist1d_replay(template: np.ndarray, seed: int) -> tuple[np.ndarray, D.Draws1D]:
    """MNIST-1D's own transform of one template, and the same random numbers as a Draws1D."""
    from mnist1d.data import get_dataset_args
    from mnist1d.transform import transform

    args = get_dataset_args()
    np.random.seed(seed)
    expected, _ = transform(template, np.linspace(-5, 5, 12) / 6.0, args)
    np.random.seed(seed)
    lo, hi = args.padding
    pad = lo + int(np.random.rand() * (hi - lo + 1))
    scale = np.random.rand()
    shift = np.random.choice(args.max_translation)
    corr = np.random.randn(72)
    iid = np.random.randn(72)
    shear = np.random.rand()
    draws = D.Draws1D(pad=np.array([pad]), scale=np.array([scale]), shift=np.array([shift]),
                      corr=corr[None], iid=iid[None], shear=np.array([shear]), phase=np.zeros(1))
    return expected, draws


@pytest.mark.parametrize("label,seed", [(0, 1), (3, 7), (8, 123)])
def test_default_style_is_mnist1d_transform(label, seed):
    template = D.mnist1d_templates()[label]
    expected, draws = _mnist1d_replay(template, seed)
    got = D.render1d(template[None], D.Style1D(), draws)[0]
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_domain_descriptors_are_the_stated_affine_map():
    tpl = D.mnist1d_templates()[[2, 5]]
    draws = D.draw1d(2, D.Style1D(), 0)
    base = D.render1d(tpl, D.Style1D(), draws)
    styled = D.render1d(tpl, D.Style1D(gain=2.0, offset=0.5, wave_amp=0.3, wave_freq=2, wave_phase=0.0), draws)
    t = np.arange(40) / 40
    np.testing.assert_allclose(styled, 2 * base + 0.5 + 0.3 * np.sin(4 * np.pi * t), atol=1e-12)


def test_noise_free_style_is_the_padded_template_resampled():
    quiet = D.Style1D(scale=0, max_translation=1, corr_noise=0, iid_noise=0, shear=0)
    tpl = D.mnist1d_templates()[[4, 7]]
    draws = D.draw1d(2, quiet, 3)._replace(pad=np.array([60, 60]))
    got = D.render1d(tpl, quiet, draws)
    padded = np.concatenate([tpl + 1e-8, np.zeros((2, 60))], 1)
    expected = np.stack([np.interp(np.linspace(0, 71, 40), np.arange(72), row) for row in padded])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    d = D.domain1d(25, quiet, 0)
    assert d.y.bincount().tolist() == [3] * 5 + [2] * 5     # balanced: 25 = 2·10 + 5


def test_style_lerp_and_validation():
    a, b = D.Style1D(), D.Style1D(shear=1.75, max_translation=36, gain=2.0)
    mid = a.lerp(b, 0.5)
    assert mid.shear == pytest.approx(1.25) and mid.max_translation == 42 and mid.gain == pytest.approx(1.5)
    assert a.lerp(b, 2.0).gain == pytest.approx(3.0)        # extrapolation
    with pytest.raises(ValueError, match="iid_noise"):
        D.Style1D(iid_noise=-1)
    with pytest.raises(ValueError, match="wave_phase"):
        D.Style1D(wave_phase=0.0).lerp(D.Style1D(), 0.5)
    img = D.ImageStyle().lerp(D.ImageStyle(fg=(0.0, 0.5, 1.0)), 0.5)
    assert img.fg == pytest.approx((0.5, 0.75, 1.0))


def test_subpopulations_and_mixture():
    v = D.subpopulations(3, 0.6, seed=0)
    x = D.mnist1d_templates()
    assert v.shape == (10, 3, 12)
    np.testing.assert_allclose(v[:, 0], x)
    shift = (v[:, 1] - x).std(-1) / x.std(-1)
    np.testing.assert_allclose(shift, 0.6, rtol=1e-9)
    d = D.domain1d(6000, D.Style1D(), 1, templates=v, mixture=[0.8, 0.15, 0.05])
    freq = d.sub.bincount(minlength=3).double() / 6000
    assert torch.allclose(freq, torch.tensor([0.8, 0.15, 0.05], dtype=torch.float64), atol=0.015)
    with pytest.raises(ValueError, match="mixture"):
        D.domain1d(10, D.Style1D(), 0, templates=v, mixture=[0.5, 0.6, 0.0])


def test_same_seed_same_domain():
    a, b = D.domain1d(50, D.Style1D(), 5), D.domain1d(50, D.Style1D(), 5)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, D.domain1d(50, D.Style1D(), 6).x)


def test_rotate_quarter_turn_is_rot90():
    x = np.arange(2 * 64, dtype=float).reshape(2, 8, 8)
    np.testing.assert_allclose(D.rotate(x, 90).numpy(), np.rot90(x, axes=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(D.rotate(x, 0).numpy(), x, atol=1e-4)


def test_render_digits_colours():
    images, labels = D.digit_images()
    assert images.shape == (1797, 8, 8) and 0 <= images.min() and images.max() == 1.0
    style = D.ImageStyle(fg=(0.9, 0.3, 0.1), bg=(0.1, 0.2, 0.6))
    x = D.render_digits(images[:5], style, 0).numpy()
    i = images[:5]
    for c, (f, b) in enumerate(zip(style.fg, style.bg)):
        np.testing.assert_allclose(x[:, c], b + (f - b) * i, atol=1e-6)
    fg = np.tile([0.0, 1.0, 0.0], (5, 1))
    green = D.render_digits(images[:5], D.ImageStyle(), 0, fg=fg).numpy()
    np.testing.assert_allclose(green[:, 1], i, atol=1e-6)
    assert np.abs(green[:, 0]).max() == 0
    textured = D.render_digits(images[:5], D.ImageStyle(grating=0.3), 0).numpy()
    assert 0 < (textured - D.render_digits(images[:5], D.ImageStyle(), 0).numpy()).max() <= 0.3 + 1e-6


@pytest.mark.parametrize("exclusive", [False, True])
def test_correlated_values_agreement(exclusive):
    y = np.arange(20000) % 10
    perm = np.roll(np.arange(10), 3)
    v = D.correlated_values(y, 0.7, 10, 0, mapping=perm, exclusive=exclusive)
    agree = (v == perm[y]).mean()
    expected = 0.7 if exclusive else 0.7 + 0.3 / 10
    assert abs(agree - expected) < 0.01
    assert v.min() >= 0 and v.max() <= 9
    # the disagreeing values are spread over the others
    off = v[v != perm[y]]
    assert len(np.unique(off)) == 10
    with pytest.raises(ValueError, match="agreement"):
        D.correlated_values(y, 1.5, 10, 0)


def test_cue_block_is_scaled_onehot_plus_noise():
    c = D.cue_block(np.array([0, 3]), 4, 2.0, 0.0, 0)
    assert torch.equal(c, torch.tensor([[2.0, 0, 0, 0], [0, 0, 0, 2.0]]))


def test_corruptions():
    x = torch.arange(10.0).repeat(3, 1)
    assert torch.equal(D.corrupt(x, "contrast", 0.5, 0, target=1.0), x * 0.5 + 0.5)
    blurred = D.corrupt(x, "blur", 3, 0)
    assert torch.allclose(blurred[0, 1:-1], x[0, 1:-1])                 # a ramp is kept inside
    assert blurred[0, 0] == pytest.approx(1 / 3)                        # edges repeat the end value
    masked = D.corrupt(torch.ones(200, 40), "mask", 0.25, 0)
    assert abs(float((masked == 0).double().mean()) - 0.25) < 0.02
    noisy = D.corrupt(torch.zeros(500, 40), "noise", 0.5, 0)
    assert abs(float(noisy.std()) - 0.5) < 0.02
    img = torch.ones(4, 3, 8, 8)
    m = D.corrupt(img, "mask", 0.5, 1)
    assert torch.equal(m[:, 0], m[:, 2])                                # same positions in every channel
    with pytest.raises(ValueError, match="unknown corruption"):
        D.corrupt(x, "fog", 1, 0)
