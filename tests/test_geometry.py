import math

import pytest
import torch

from genutils.geometry import intrinsic_dim_mle, intrinsic_dim_twonn, knn_distances, min_class_distance


@pytest.mark.parametrize("d", [2, 5])
def test_intrinsic_dimension_of_a_flat_cube_embedded_in_more_dimensions(d):
    """Known answer: uniform points in a d-cube, rotated into 30 dimensions, have dimension d."""
    g = torch.Generator().manual_seed(0)
    z = torch.rand(3000, d, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(30, d, generator=g, dtype=torch.float64))
    x = z @ q.T
    assert intrinsic_dim_twonn(x) == pytest.approx(d, rel=0.15)
    assert intrinsic_dim_mle(x, k=10) == pytest.approx(d, rel=0.15)


def test_knn_distances_ignore_duplicates_and_sort():
    x = torch.tensor([[0.0], [0.0], [1.0], [3.0]])
    t = knn_distances(x, 2)
    assert t[0].tolist() == [1.0, 3.0]  # the duplicate at distance 0 is skipped
    assert t[3].tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match="k must be"):
        knn_distances(x, 4)


def test_min_class_distance():
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [3.0, 4.0], [0.0, 0.0]])
    y = torch.tensor([0, 0, 1, 1])
    assert min_class_distance(x, y) == pytest.approx(1.0)  # (0, 1) vs the second (0, 0); the duplicate pair is ignored
    assert min_class_distance(x[:3], y[:3]) == pytest.approx(math.sqrt(9 + 9))
