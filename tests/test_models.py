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
