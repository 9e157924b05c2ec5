import numpy as np
import pytest
from scipy.integrate import quad

import genutils as gu


@pytest.mark.parametrize("ratio", [0.25, 0.5, 1.0, 2.0, 4.0])
def test_marchenko_pastur_mass_and_moments(ratio):
    """Known answers: mass min(1, 1/q) (plus the atom = 1), mean σ², second moment σ⁴(1 + q)."""
    var = 1.5
    a, b = gu.marchenko_pastur_support(ratio, var)
    pdf = lambda x: gu.marchenko_pastur_pdf(np.array([x]), ratio, var)[0]  # noqa: E731
    mass = quad(pdf, a, b, limit=200)[0]
    mean = quad(lambda x: x * pdf(x), a, b, limit=200)[0]
    second = quad(lambda x: x * x * pdf(x), a, b, limit=200)[0]
    assert mass == pytest.approx(min(1.0, 1.0 / ratio), abs=1e-6)
    assert mass + gu.marchenko_pastur_atom(ratio) == pytest.approx(1.0, abs=1e-6)
    assert mean == pytest.approx(var, rel=1e-6)
    assert second == pytest.approx(var**2 * (1 + ratio), rel=1e-6)


def test_marchenko_pastur_matches_a_large_random_matrix():
    rng = np.random.default_rng(0)
    n, p = 4000, 1000
    z = rng.normal(size=(n, p))
    eig = np.linalg.eigvalsh(z.T @ z / n)
    grid = np.linspace(*gu.marchenko_pastur_support(p / n), 20001)
    cdf = np.cumsum(gu.marchenko_pastur_pdf(grid, p / n)) * (grid[1] - grid[0])
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(eig, q) == pytest.approx(np.interp(q, cdf, grid), rel=0.02)


def test_marchenko_pastur_rejects_bad_ratio():
    with pytest.raises(ValueError):
        gu.marchenko_pastur_support(0.0)
