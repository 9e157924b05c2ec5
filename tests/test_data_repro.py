import numpy as np
import pytest
import torch

import genutils as gu


def test_cluster_data_draws_around_the_right_centres():
    centres = torch.tensor([[10.0, 0.0], [0.0, -10.0]])
    x, y, which = gu.cluster_data(centres, torch.tensor([1.0, -1.0]), 4000, noise_sd=0.5,
                                  generator=torch.Generator().manual_seed(0))
    assert x.shape == (4000, 2) and y.shape == which.shape == (4000,)
    for k in range(2):
        pts = x[which == k]
        assert torch.allclose(pts.mean(0), centres[k], atol=0.05)
        assert pts.std(0).mean().item() == pytest.approx(0.5, rel=0.05)
        assert (y[which == k] == [1.0, -1.0][k]).all()
    assert gu.cluster_data(centres, torch.ones(2), 3, batch_shape=(5,))[0].shape == (5, 3, 2)


def test_cluster_data_checks_its_input():
    with pytest.raises(ValueError, match="centres"):
        gu.cluster_data(torch.zeros(3), torch.zeros(3), 5)


def test_noisy_labels_flip_at_the_given_rate():
    g = torch.Generator().manual_seed(0)
    y = torch.ones(20000)
    noisy, flipped = gu.noisy_labels(y, 0.1, generator=g)
    assert flipped.float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert torch.equal(noisy == -1, flipped)
    classes = torch.randint(5, (20000,), generator=g)
    noisy, flipped = gu.noisy_labels(classes, 0.3, num_classes=5, generator=g)
    assert torch.equal(noisy != classes, flipped)
    assert noisy.min() >= 0 and noisy.max() <= 4


def test_seed_everything_reproduces_draws():
    gu.seed_everything(7)
    a = (np.random.rand(3), torch.rand(3))
    gu.seed_everything(7)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_device_and_environment():
    assert gu.device("cpu").type == "cpu"
    env = gu.environment()
    assert {"python", "torch", "numpy", "device", "threads"} <= set(env)


def test_mnist1d_is_generated_offline_and_seeded():
    x, y, xt, yt = gu.mnist1d(200, seed=3)
    assert x.shape == (160, 40) and xt.shape == (40, 40) and x.dtype == torch.float32
    assert set(y.tolist()) <= set(range(10)) and len(set(y.tolist())) > 5
    assert torch.equal(x, gu.mnist1d(200, seed=3)[0])
    assert not torch.equal(x, gu.mnist1d(200, seed=4)[0])
