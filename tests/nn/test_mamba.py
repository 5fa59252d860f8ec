"""Mamba blocks: padding handling, bidirectional reversal, causality, weight-decay groups."""

from __future__ import annotations

import pytest
import torch

from graphgen.nn import MambaBlock, MambaConfig, TransformerBlock, parameter_groups, reverse_within_lengths
from graphgen.nn.mamba import CausalDepthwiseConv


def test_reverse_within_lengths_keeps_pads_in_place():
    x = torch.arange(10.0).view(2, 5, 1)
    out = reverse_within_lengths(x, torch.tensor([5, 3]))
    assert out[0, :, 0].tolist() == [4, 3, 2, 1, 0]
    assert out[1, :, 0].tolist() == [7, 6, 5, 8, 9]
    torch.testing.assert_close(reverse_within_lengths(out, torch.tensor([5, 3])), x)


def _block(bidirectional=True, share=True, seed=0):
    torch.manual_seed(seed)
    return MambaBlock(MambaConfig(d_model=8, d_state=4, bidirectional=bidirectional, share_in_proj=share)).double()


def test_padded_batches_equal_each_sequence_alone():
    for share in (True, False):
        block = _block(share=share)
        g = torch.Generator().manual_seed(1)
        seqs = [torch.randn(n, 8, generator=g, dtype=torch.float64) for n in (6, 1, 4)]
        alone = [block(s[None])[0] for s in seqs]
        for extra_pad in (0, 1, 7):
            width = 6 + extra_pad
            padded = torch.zeros(3, width, 8, dtype=torch.float64)
            for i, s in enumerate(seqs):
                padded[i, : len(s)] = s
                padded[i, len(s) :] = torch.randn(width - len(s), 8, generator=g, dtype=torch.float64) * 100  # junk
            out = block(padded, torch.tensor([6, 1, 4]))
            for i, s in enumerate(seqs):
                torch.testing.assert_close(out[i, : len(s)], alone[i])


def test_unidirectional_block_is_causal_and_bidirectional_is_not():
    x = torch.randn(1, 7, 8, dtype=torch.float64)
    later = x.clone()
    later[0, 5:] += torch.randn(2, 8, dtype=torch.float64)  # not a constant shift: LayerNorm removes those
    uni = _block(bidirectional=False)
    torch.testing.assert_close(uni(later)[0, :5], uni(x)[0, :5])
    bi = _block(bidirectional=True)
    assert not torch.allclose(bi(later)[0, :5], bi(x)[0, :5])


def test_transformer_block_masks_padding():
    torch.manual_seed(0)
    block = TransformerBlock(8, num_heads=2).double().eval()
    x = torch.randn(1, 4, 8, dtype=torch.float64)
    padded = torch.cat([x, 50 * torch.randn(1, 3, 8, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(block(padded, torch.tensor([4]))[0, :4], block(x)[0])


def test_initialisation_and_weight_decay_groups():
    block = _block()
    ssm = block.mixer.ssm
    torch.testing.assert_close(-torch.exp(ssm.A_log[0]), -torch.arange(1.0, 5.0, dtype=torch.float64))
    dt = torch.nn.functional.softplus(ssm.dt_proj.bias)
    assert (dt >= 1e-4 - 1e-12).all() and (dt <= 0.1 + 1e-9).all()
    decay, no_decay = parameter_groups(block, 0.01)
    no_decay_ids = {id(p) for p in no_decay["params"]}
    assert id(ssm.A_log) in no_decay_ids and id(ssm.D) in no_decay_ids
    assert id(ssm.x_proj.weight) in {id(p) for p in decay["params"]}


def test_last_position_readout_equals_the_full_block_with_gradients():
    for bidirectional, share in ((True, True), (True, False), (False, True)):
        block = _block(bidirectional, share)
        g = torch.Generator().manual_seed(2)
        lengths = torch.tensor([5, 1, 3, 5])
        x = torch.randn(4, 5, 8, generator=g, dtype=torch.float64)
        x[1, 1:] = 1e3  # junk in the pads must not leak
        full_x, last_x = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        full = block(full_x, lengths)[torch.arange(4), lengths - 1]
        last = block.forward_last(last_x, lengths)
        torch.testing.assert_close(last, full, rtol=1e-12, atol=1e-12)
        weights = torch.randn(4, 8, generator=g, dtype=torch.float64)
        grads_full = torch.autograd.grad((full * weights).sum(), [full_x, *block.parameters()], allow_unused=True)
        grads_last = torch.autograd.grad((last * weights).sum(), [last_x, *block.parameters()], allow_unused=True)
        for a, b in zip(grads_full, grads_last):
            if a is None or b is None:  # a parameter the read-out never touches, in both
                assert a is None or float(a.abs().max()) == 0.0
                continue
            torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(block.forward_last(x[:, :3]), block(x[:, :3])[:, -1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 7, 5), (2, 1, 4), (1, 2, 3)])
def test_causal_depthwise_conv_equals_conv1d_in_outputs_and_gradients(shape):
    """The shift-and-add conv equals nn.Conv1d (left-padded, cut to L), gradients included."""
    torch.manual_seed(0)
    b, length, d = shape
    conv = torch.nn.Conv1d(d, d, 4, groups=d, padding=3).double()
    x = torch.randn(b, length, d, dtype=torch.float64, requires_grad=True)
    expected = conv(x.transpose(1, 2))[..., :length].transpose(1, 2)
    got = CausalDepthwiseConv.apply(x, conv.weight[:, 0], conv.bias)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    gy = torch.randn_like(expected)
    want = torch.autograd.grad(expected, [x, conv.weight, conv.bias], gy)
    have = torch.autograd.grad(got, [x, conv.weight, conv.bias], gy)
    for a, e in zip(have, want):
        torch.testing.assert_close(a, e, rtol=1e-12, atol=1e-12)
    w = conv.weight[:, 0].detach().clone().requires_grad_()
    bias = conv.bias.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(CausalDepthwiseConv.apply, (x, w, bias))


def test_windowed_attention_attends_within_each_window_only():
    """Each window of the windowed block equals the full block run on that window alone."""
    torch.manual_seed(0)
    block = TransformerBlock(8, num_heads=2, window=4).eval()
    full = TransformerBlock(8, num_heads=2).eval()
    full.load_state_dict(block.state_dict())
    x = torch.randn(2, 10, 8)
    lengths = torch.tensor([10, 6])
    out = block(x, lengths)
    for row in range(2):
        for start in range(0, int(lengths[row]), 4):
            stop = min(start + 4, int(lengths[row]))
            alone = full(x[row : row + 1, start:stop])
            torch.testing.assert_close(out[row, start:stop], alone[0], rtol=1e-5, atol=1e-6)
    # windows at least as long as the sequence: exactly full attention
    wide = TransformerBlock(8, num_heads=2, window=10).eval()
    wide.load_state_dict(block.state_dict())
    torch.testing.assert_close(wide(x, lengths)[0], full(x, lengths)[0])
    with pytest.raises(ValueError, match="attention window"):
        TransformerBlock(8, num_heads=2, window=0)
