import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genutils.models import Positions, Windows, conv1d_as_linear


@pytest.mark.parametrize("kernel, stride, pad", [(5, 2, 1), (5, 1, 2), (3, 1, 0)])
def test_windows_plus_linear_is_conv1d(kernel, stride, pad):
    torch.manual_seed(0)
    w = Windows(40, kernel, stride, pad, first=True)
    lin = nn.Linear(kernel, 4)
    mine, ref = conv1d_as_linear(w, lin, torch.randn(6, 40))
    assert mine.shape == ref.shape == (6, w.out_length, 4)
    assert torch.allclose(mine, ref, atol=1e-5)


def test_second_layer_matches_multichannel_conv1d():
    torch.manual_seed(1)
    x = torch.randn(3, 8, 20)  # (B, C, L) for conv1d
    conv = nn.Conv1d(8, 5, 3, stride=2, padding=1)
    w = Windows(20, 3, stride=2, pad=1)
    lin = nn.Linear(8 * 3, 5)
    lin.weight.data = conv.weight.reshape(5, -1)  # a window is laid out channel by channel, k positions each
    lin.bias.data = conv.bias.data
    h = x.transpose(1, 2).reshape(3 * 20, 8)  # (B·L, C)
    out = lin(w(h)).reshape(3, w.out_length, 5)
    assert torch.allclose(out, conv(x).transpose(1, 2), atol=1e-5)
    assert Positions(w.out_length)(out.reshape(-1, 5)).shape == (3, w.out_length * 5)


def test_windows_rejects_a_kernel_longer_than_the_signal():
    with pytest.raises(ValueError, match="kernel 9"):
        Windows(4, 9)


# ---- TinyGPT ------------------------------------------------------------------------------------
import math

from genutils import many
from genutils.models import POS_OPTIONS, OffsetInput, TinyGPT, alibi_slopes


def tiny(pos="learned", **kw):
    return TinyGPT(11, d_model=16, n_layers=2, n_heads=2, d_ff=32, max_len=24, pos=pos, **kw)


@pytest.mark.parametrize("pos", POS_OPTIONS)
def test_tinygpt_shapes_and_causality(pos):
    torch.manual_seed(0)
    m = tiny(pos).eval()
    x = torch.randint(11, (3, 10))
    out = m(x)
    assert out.shape == (3, 10, 11)
    for t in (0, 4, 9):  # changing token t never changes the logits before t
        x2 = x.clone()
        x2[:, t] = (x2[:, t] + 1) % 11
        out2 = m(x2)
        assert torch.allclose(out[:, :t], out2[:, :t], atol=1e-6)
        assert not torch.allclose(out[:, t:], out2[:, t:], atol=1e-4)


@pytest.mark.parametrize("pos, offset_matters", [("learned", True), ("none", False), ("rotary", False), ("alibi", False)])
def test_position_offsets(pos, offset_matters):
    # learned: the offset picks other rows of the table; NoPE and ALiBi ignore it; RoPE scores depend
    # only on position differences, so a common shift of a whole row leaves its logits unchanged.
    torch.manual_seed(1)
    m = tiny(pos).eval()
    x = torch.randint(11, (2, 8))
    a, b = m(x), m(x, pos_offset=torch.tensor([5, 9]))
    assert torch.allclose(a, b, atol=1e-5) != offset_matters


def test_position_options_see_order_except_nope_at_first_token():
    # Without positions a causal transformer still tells orders apart (the mask), but position 0 sees
    # only itself, so swapping tokens 1 and 2 leaves position 0's logits equal under every option.
    torch.manual_seed(2)
    x = torch.tensor([[1, 2, 3, 4, 5]])
    y = torch.tensor([[1, 3, 2, 4, 5]])
    for pos in POS_OPTIONS:
        m = tiny(pos).eval()
        assert torch.allclose(m(x)[:, 0], m(y)[:, 0], atol=1e-6)
        assert not torch.allclose(m(x)[:, 2], m(y)[:, 2], atol=1e-4)


def test_rotary_rotation_preserves_norm_and_alibi_slopes():
    from genutils.models import _rotate

    q = torch.randn(2, 3, 5, 8)
    ang = torch.rand(2, 1, 5, 4) * 6
    assert torch.allclose(_rotate(q, ang.cos(), ang.sin()).norm(dim=-1), q.norm(dim=-1), atol=1e-5)
    assert torch.allclose(alibi_slopes(8), torch.tensor([2.0 ** -(h + 1) for h in range(8)]))


def test_gpt2_init_and_config_errors():
    torch.manual_seed(0)
    m = TinyGPT(50, d_model=64, n_layers=4, n_heads=4, d_ff=256, max_len=32)
    assert abs(float(m.blocks[0].attn.qkv.weight.detach().std()) - 0.02) < 2e-3
    assert abs(float(m.blocks[0].attn.proj.weight.detach().std()) - 0.02 / math.sqrt(8)) < 1e-3
    assert float(m.blocks[1].mlp[0].bias.abs().max()) == 0.0 and float(m.ln_f.weight.min()) == 1.0
    with pytest.raises(ValueError, match="pos must be"):
        tiny("sinusoid")
    with pytest.raises(ValueError, match="divisible"):
        TinyGPT(5, d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="max_len"):
        tiny()(torch.zeros(1, 30, dtype=torch.long))


def test_embeds_input_read_in_and_hidden():
    torch.manual_seed(3)
    m = TinyGPT(0, d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=8, pos="none", in_dim=5, out_dim=2).eval()
    e = torch.randn(4, 6, 5)
    out, h = m(embeds=e, return_hidden=True)
    assert out.shape == (4, 6, 2) and h.shape == (4, 6, 16)
    assert torch.equal(m(e), out)  # a float tensor as the first argument is read as embeds
    with pytest.raises(ValueError, match="exactly one"):
        m()
    plain = tiny().eval()  # embeds of width d_model skip the token table: the same as looking tokens up
    x = torch.randint(11, (2, 7))
    assert torch.allclose(plain(embeds=plain.wte(x)), plain(x), atol=1e-6)
    assert TinyGPT(11, 16, 1, 2, 32, 8, out_dim=0)(x).shape == (2, 7, 16)


@pytest.mark.parametrize("pos", ["learned", "rotary"])
def test_tinygpt_under_many_matches_each_model(pos):
    make = lambda: OffsetInput(tiny(pos))
    models = many.stack(make, [4, 5, 6])
    x = torch.randint(11, (3, 5, 9))
    x[:, :, 0] = torch.randint(0, 10, (3, 5))  # column 0: position offsets
    out = models(x, per_model=True)
    assert out.shape == (3, 5, 8, 11)
    for i in range(3):
        alone = many.build(make, [4, 5, 6][i]).eval()
        assert torch.allclose(out[i], alone(x[i]), atol=1e-5)
        assert torch.allclose(out[i], alone.model(x[i, :, 1:], pos_offset=x[i, :, 0]), atol=1e-5)


@pytest.mark.parametrize("pos", ["learned", "alibi"])
def test_attention_math_path_equals_fused_kernel(pos):
    from genutils.models import attention_math

    torch.manual_seed(7)
    q, k, v = (torch.randn(2, 3, 6, 8) for _ in range(3))
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(attention_math(q, k, v, None, True), ref, atol=1e-5)
    bias = torch.randn(3, 6, 6)
    assert torch.allclose(attention_math(q, k, v, bias, False), F.scaled_dot_product_attention(q, k, v, attn_mask=bias),
                          atol=1e-5)
    # and through the model: vmap (math path) gives what each model alone (fused kernel) gives, gradients too
    models = many.stack(lambda: tiny(pos), [1, 2])
    x = torch.randint(11, (4, 7))
    live = {n: p.detach().requires_grad_() for n, p in models.params.items()}
    out = models.forward(live, x)
    g = torch.autograd.grad(out.square().sum(), list(live.values()))
    for i in range(2):
        alone = many.build(lambda: tiny(pos), [1, 2][i])
        o = alone(x)
        assert torch.allclose(out[i], o, atol=1e-5)
        ga = torch.autograd.grad(o.square().sum(), list(alone.parameters()))
        assert all(torch.allclose(a[i], b, atol=1e-5) for a, b in zip(g, ga))
