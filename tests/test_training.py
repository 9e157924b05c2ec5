"""The language-model pieces: batch layout, targets, exact match, schedules, and training that works."""
import math

import pytest
import torch
from torch import nn

from genutils import many
from genutils.models import OffsetInput, TinyGPT
from genutils.training import (Specials, dataset_batches, exact_match, lm_batch, lm_loss,
                               lm_targets, lr_schedule, pack, rows_correct, train_lm)

SP = Specials.after(5)  # BOS 5, SEP 6, EOS 7, PAD 8


def test_batch_layout_mask_and_targets():
    b = lm_batch([[1, 2], [3]], [[2, 1], [4, 4, 4]], SP)
    assert b.X.tolist() == [[5, 1, 2, 6, 2, 1, 7], [5, 3, 6, 4, 4, 4, 7]]
    assert b.mask.int().tolist() == [[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]]
    assert b.pos_offset.tolist() == [0, 0]
    assert lm_targets(b.X, b.mask).tolist() == [[-100, -100, -100, 2, 1, 7, -100], [-100, -100, 4, 4, 4, 7, -100]]
    padded = lm_batch([[1], []], [[2], [3, 0]], SP, length=8)
    assert padded.X.tolist() == [[5, 1, 6, 2, 7, 8, 8, 8], [5, 6, 3, 0, 7, 8, 8, 8]]
    assert pack(b).tolist()[1] == [0, 5, 3, 6, 4, 4, 4, 7]
    assert SP.vocab_size == 9


def test_tensor_input_with_lengths_equals_lists():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(5, (20, 6), generator=g), torch.randint(5, (20, 4), generator=g)
    lx, ly = torch.randint(0, 7, (20,), generator=g), torch.randint(1, 5, (20,), generator=g)
    fast = lm_batch(x, y, SP, x_lengths=lx, y_lengths=ly)
    slow = lm_batch([r[:n].tolist() for r, n in zip(x, lx)], [r[:n].tolist() for r, n in zip(y, ly)], SP)
    assert torch.equal(fast.X, slow.X) and torch.equal(fast.mask, slow.mask)


def test_random_offsets_cover_the_table_and_errors():
    x = [[1, 2, 3]] * 4000
    b = lm_batch(x, x, SP, max_len=20, random_offsets=True, generator=torch.Generator().manual_seed(1))
    T = b.X.shape[1]  # 9
    assert set(b.pos_offset.tolist()) == set(range(20 - T + 1))
    with pytest.raises(ValueError, match="max_len"):
        lm_batch(x, x, SP, max_len=5, random_offsets=True)
    with pytest.raises(ValueError, match="shorter"):
        lm_batch(x, x, SP, length=4)


def test_rows_correct_and_exact_match():
    b = lm_batch([[1, 2], [3, 4]], [[2, 1], [4, 3]], SP)
    logits = torch.full((2, 7, 9), -1.0)
    tgt = lm_targets(b.X, b.mask)
    for i in range(2):
        for t in range(7):
            logits[i, t, max(int(tgt[i, t]), 0)] = 1.0  # right answer everywhere...
    logits[1, 4, :] = 0.0
    logits[1, 4, 0] = 5.0  # ...except row 1's second answer token
    logits[0, 0, :] = 0.0
    logits[0, 0, 3] = 9.0  # a wrong guess at an unmasked position does not count
    assert rows_correct(logits, b.X, b.mask).tolist() == [True, False]
    assert rows_correct(logits.expand(3, -1, -1, -1), b.X, b.mask).shape == (3, 2)

    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x, pos_offset=None):
            return logits[: x.shape[0]]

    assert exact_match(Fixed(), b.X, b.mask) == 0.5
    assert exact_match(Fixed(), b.X, b.mask, per_row=True).tolist() == [True, False]


def test_schedule_values_at_known_steps():
    f = lr_schedule("cosine", 100, warmup=0.1)
    assert [f(0), f(4), f(9)] == pytest.approx([0.1, 0.5, 1.0])
    assert [f(10), f(55), f(100)] == pytest.approx([1.0, 0.5, 0.0], abs=1e-12)
    assert f(32.5) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)))
    lin = lr_schedule("linear", 20, warmup=0.0, final=0.1)
    assert [lin(0), lin(10), lin(20)] == pytest.approx([1.0, 0.55, 0.1])
    assert lr_schedule("constant", 10, 0.2)(0) == 0.5 and lr_schedule("constant", 10, 0.2)(9) == 1.0
    with pytest.raises(ValueError, match="schedule must be"):
        lr_schedule("step", 10)


def test_onecycle_equals_torch():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.3)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=50, pct_start=0.2)
    f = lr_schedule("onecycle", 50, warmup=0.2)
    for t in range(50):
        assert opt.param_groups[0]["lr"] == pytest.approx(0.3 * f(t), rel=1e-9), t
        opt.step()
        ref.step()


def copy_batches(seed, n=4, symbols=8):
    g = torch.Generator().manual_seed(seed)
    sp = Specials.after(symbols)

    def sample(step):
        x = torch.randint(0, symbols, (64, n), generator=g)
        return lm_batch(x, x, sp)

    return sample, sp


def test_train_lm_learns_a_copy_task_to_exact_match():
    sample, sp = copy_batches(0)
    torch.manual_seed(0)
    m = TinyGPT(sp.vocab_size, d_model=32, n_layers=1, n_heads=2, d_ff=64, max_len=12)
    held = copy_batches(1)[0](0)
    log = train_lm(m, sample, 150, 1e-2, record=lambda mod, t: {"em": exact_match(mod, held.X, held.mask)},
                   record_at=[0, 150])
    assert len(log.loss) == 150 and log.loss[-1] < 0.05 < log.loss[0]
    assert log.rows[0]["em"] < 0.05 and log.rows[-1]["em"] == 1.0
    x = torch.randint(0, 8, (500, 4), generator=torch.Generator().manual_seed(2))
    test = lm_batch(x, x, sp)
    assert exact_match(m, test.X, test.mask) >= 0.99


def test_train_lm_equals_train_many_on_tinygpt():
    # The same AdamW, schedule, clipping and decay: K TinyGPTs trained at once end where train_lm puts each.
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 8, (128, 4), generator=g)
    data = lm_batch(x, x, Specials.after(8), max_len=16, random_offsets=True, generator=g)
    make = lambda: OffsetInput(TinyGPT(12, d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=16))
    seeds, data_seeds, steps = [1, 2], [5, 6], 12
    models = many.stack(make, seeds)
    many.train_many(models, pack(data), lm_targets(data.X, data.mask), lm_loss, steps=steps, data_seeds=data_seeds,
                    batch_size=16, optimizer="adamw", lr=3e-3, weight_decay=0.01, betas=(0.9, 0.98),
                    schedule=lr_schedule("cosine", steps, 0.1), clip=1.0)
    for i in range(2):
        alone = many.build(make, seeds[i])
        train_lm(alone.model, dataset_batches(data, 16, data_seeds[i]), steps, 3e-3)
        for (name, a), b in zip(alone.state_dict().items(), models.model(i).state_dict().values()):
            assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), (i, name)


def test_train_lm_custom_loss_on_embeds():
    torch.manual_seed(0)
    m = TinyGPT(0, d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=8, pos="none", in_dim=3, out_dim=1)
    g = torch.Generator().manual_seed(0)

    def sample(step):
        e = torch.randn(32, 6, 3, generator=g)
        return e, e[..., :1].cumsum(1)  # target: running sum of the first input coordinate

    loss = lambda model, b: ((model(embeds=b[0]) - b[1]) ** 2).mean()
    log = train_lm(m, sample, 60, 1e-2, loss_fn=loss, weight_decay=0.0)
    assert log.loss[-1] < 0.5 * log.loss[0]
