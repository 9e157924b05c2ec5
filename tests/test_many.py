"""The many-models trainer gives each model what training it alone gives it."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genutils import many


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 6, generator=g)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


@pytest.mark.parametrize("opt", [
    dict(optimizer="sgd", lr=[0.05, 0.1, 0.2], momentum=0.0, weight_decay=0.0),
    dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=[0.0, 1e-3, 1e-2]),
    dict(optimizer="adam", lr=[1e-3, 3e-3, 1e-2], weight_decay=1e-4),
    dict(optimizer="adam", lr=3e-3, weight_decay=0.0),
    dict(optimizer="adamw", lr=[1e-3, 3e-3, 1e-2], weight_decay=[0.0, 0.1, 0.3]),
    dict(optimizer="adamw", lr=1e-2, weight_decay=0.05, clip=0.05,
         schedule=lambda t: min(1.0, (t + 1) / 5) * 0.5 ** (t / 10)),
    dict(optimizer="sgd", lr=0.2, momentum=0.9, clip=0.1, schedule=lambda t: 1 - t / 25),
])
def test_stacked_training_equals_training_each_model_alone(data, opt):
    x, y = data
    seeds, data_seeds = [1, 2, 3], [10, 11, 12]
    models = many.stack(mlp, seeds)
    many.train_many(models, x, y, F.cross_entropy, steps=25, batch_size=16, data_seeds=data_seeds, **opt)
    for i in range(3):
        per = {key: (v[i] if isinstance(v, list) else v) for key, v in opt.items()}

        alone = many.train_one(mlp, x, y, F.cross_entropy, seed=seeds[i], data_seed=data_seeds[i], steps=25,
                               batch_size=16, **per)
        together = models.model(i)
        for (name, a), b in zip(alone.state_dict().items(), together.state_dict().values()):
            assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), f"model {i}, {name}"


def test_models_differ_by_seed_and_start_like_build(data):
    models = many.stack(mlp, [5, 6])
    ref = many.build(mlp, 6)
    assert torch.equal(models.params["0.weight"][1], ref[0].weight)
    assert not torch.equal(models.params["0.weight"][0], models.params["0.weight"][1])
    assert models(data[0]).shape == (2, 64, 3)


def test_per_model_data_full_batch_and_recording():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 32, 6, generator=g)
    y = torch.randint(3, (2, 32), generator=g)
    models = many.stack(mlp, [0, 1])
    hist = many.train_many(models, x, y, F.cross_entropy, steps=10, data_seeds=[0, 0], per_model_data=True, lr=0.5,
                           record=lambda m, step: {"loss": F.cross_entropy(m(x, per_model=True).transpose(1, 2), y,
                                                                     reduction="none").mean(1)},
                           record_at=[0, 10])
    df = hist.frame()
    assert list(df.step) == [0, 0, 10, 10] and list(df.model) == [0, 1, 0, 1]
    assert (df[df.step == 10].loss.values < df[df.step == 0].loss.values).all()
    alone = many.train_one(mlp, x[1], y[1], F.cross_entropy, seed=1, data_seed=0, steps=10, lr=0.5)
    assert torch.allclose(alone[0].weight, models.model(1)[0].weight, atol=1e-5)


def test_bad_arguments_are_named(data):
    x, y = data
    models = many.stack(mlp, [0, 1])
    with pytest.raises(ValueError, match="one data seed per model"):
        many.train_many(models, x, y, F.cross_entropy, steps=1, data_seeds=[0])
    with pytest.raises(ValueError, match="lr must be one value or 2 values"):
        many.train_many(models, x, y, F.cross_entropy, steps=1, data_seeds=[0, 1], lr=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="batch_size"):
        many.train_many(models, x, y, F.cross_entropy, steps=1, data_seeds=[0, 1], batch_size=1000)


class Scaled(nn.Module):
    """Not a plain Sequential: exercises the general vmap path."""

    def __init__(self):
        super().__init__()
        self.body = mlp()
        self.scale = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return self.scale * self.body(x)


def test_general_modules_train_like_alone_too(data):
    x, y = data
    models = many.stack(Scaled, [1, 2])
    assert not models.is_plain_mlp and many.stack(mlp, [1]).is_plain_mlp
    many.train_many(models, x, y, F.cross_entropy, steps=15, batch_size=16, data_seeds=[3, 4], lr=0.1, momentum=0.9)
    for i in range(2):
        alone = many.train_one(Scaled, x, y, F.cross_entropy, seed=i + 1, data_seed=i + 3, steps=15, batch_size=16,
                               lr=0.1, momentum=0.9)
        for (name, a), b in zip(alone.state_dict().items(), models.model(i).state_dict().values()):
            assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), f"model {i}, {name}"


def test_record_can_stop_training_early(data):
    x, y = data
    models = many.stack(mlp, [0, 1])
    start = models.params["0.weight"].clone()

    def record(m, step):
        if step == 3:
            raise many.StopTraining
        return {"step": torch.full((2,), float(step))}

    hist = many.train_many(models, x, y, F.cross_entropy, steps=10, batch_size=16, data_seeds=[0, 1], lr=0.1,
                           record=record, record_at=range(11))
    assert sorted(set(hist.frame().step)) == [0, 1, 2]
    alone = many.train_one(mlp, x, y, F.cross_entropy, seed=1, data_seed=1, steps=3, batch_size=16, lr=0.1)
    assert torch.allclose(alone[0].weight, models.model(1)[0].weight, atol=1e-5)
    assert not torch.equal(start, models.params["0.weight"])


def test_clipping_caps_each_models_gradient_norm_separately(data):
    """With a tiny clip every model moves by lr*clip in norm on its first SGD step, whatever its gradient."""
    x, y = data
    models = many.stack(mlp, [0, 1, 2])
    start = {n: p.clone() for n, p in models.params.items()}
    many.train_many(models, x, y, F.cross_entropy, steps=1, data_seeds=[0, 1, 2], lr=[1.0, 2.0, 4.0], clip=1e-3)
    moved = torch.stack([(models.params[n] - start[n]).pow(2).flatten(1).sum(1) for n in start]).sum(0).sqrt()
    assert torch.allclose(moved, torch.tensor([1e-3, 2e-3, 4e-3]), rtol=1e-3)


def test_batch_orders_match_one_generator_per_model():
    orders = many.BatchOrders(10, 3, [4, 5])
    singles = [many.batch_order(10, 3, torch.Generator().manual_seed(s)) for s in (4, 5)]
    for _ in range(7):
        assert torch.equal(next(orders), torch.stack([next(o) for o in singles]))


def test_unknown_optimizer_and_bad_clip_are_named(data):
    x, y = data
    models = many.stack(mlp, [0])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        many.train_many(models, x, y, F.cross_entropy, steps=1, data_seeds=[0], optimizer="lion")
    with pytest.raises(ValueError, match="clip must be a positive"):
        many.train_many(models, x, y, F.cross_entropy, steps=1, data_seeds=[0], clip=0.0)
