import numpy as np
import pytest

import genutils as gu


def test_bootstrap_interval_of_a_mean_matches_the_normal_interval():
    x = np.random.default_rng(1).normal(loc=2.0, scale=3.0, size=400)
    lo, hi = gu.bootstrap_ci(x, n_boot=4000, seed=0)
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert lo == pytest.approx(x.mean() - half, abs=0.05)
    assert hi == pytest.approx(x.mean() + half, abs=0.05)


def test_bootstrap_interval_collapses_on_constant_data_and_is_seeded():
    assert gu.bootstrap_ci(np.full(10, 0.7)) == pytest.approx((0.7, 0.7))
    x = np.arange(10.0)
    assert gu.bootstrap_ci(x, np.median, seed=3) == gu.bootstrap_ci(x, np.median, seed=3)


def test_bootstrap_rejects_empty_input_and_bad_level():
    with pytest.raises(ValueError):
        gu.bootstrap_ci(np.array([]))
    with pytest.raises(ValueError):
        gu.bootstrap_ci(np.ones(3), level=1.5)


def test_mean_sd():
    mean, sd = gu.mean_sd(np.array([[1.0, 2.0], [3.0, 6.0]]))
    assert mean.tolist() == [2.0, 4.0]
    assert sd == pytest.approx([np.sqrt(2), np.sqrt(8)])
    assert gu.mean_sd(np.array([[5.0, 1.0]]))[1].tolist() == [0.0, 0.0]


def test_bootstrap_refuses_fewer_than_ten_values():
    with pytest.raises(ValueError, match="at least 10"):
        gu.bootstrap_ci(np.arange(3.0))


def test_t_interval_matches_the_textbook_value():
    # mean 2, sd 1, n = 4: half-width t_{0.975, 3} * 1 / 2 = 3.182446 / 2
    x = np.array([1.0, 2.0, 2.0, 3.0]) * np.sqrt(1.5) - 2.0 * np.sqrt(1.5) + 2.0
    lo, hi = gu.t_interval(x)
    assert x.std(ddof=1) == pytest.approx(1.0)
    assert (lo, hi) == pytest.approx((2.0 - 1.591223, 2.0 + 1.591223), abs=1e-5)
    assert gu.t_interval(np.full(3, 0.5)) == pytest.approx((0.5, 0.5))
    with pytest.raises(ValueError, match="at least 2"):
        gu.t_interval([1.0])
