"""Network helpers against direct computations: refreshed BatchNorm statistics."""

from __future__ import annotations

import copy

import torch
from torch import nn

from dlclaims.methods import nets
from dlclaims.rng import stream


def bn_inputs(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The input of every BatchNorm layer in a train-mode forward pass over all of ``x``."""
    seen: list[torch.Tensor] = []
    probe = copy.deepcopy(net).train()
    norms = [m for m in probe.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    hooks = [m.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach())) for m in norms]
    with torch.no_grad():
        probe(x)
    for h in hooks:
        h.remove()
    return seen


def per_feature(t: torch.Tensor) -> torch.Tensor:
    """(features, values): a BN1d input's columns, a BN2d input's channels over batch and pixels."""
    return t.transpose(0, 1).reshape(t.shape[1], -1)


def test_one_chunk_gives_each_bn_layer_the_mean_and_unbiased_variance_of_its_inputs():
    g = stream(0, "test-nets", "refresh")
    cases = [(nets.mlp([6, 9, 7, 3], batch_norm=True, generator=g), torch.randn(300, 6, generator=g) * 3 + 2),
             (nets.conv_net((3, 4), image_size=6, batch_norm=True, generator=g, bn_affine=False),
              torch.randn(40, 1, 6, 6, generator=g) + 1)]
    for net, x in cases:
        expected = [per_feature(t) for t in bn_inputs(net, x)]
        frozen = nets.refresh_bn_statistics_(copy.deepcopy(net), x, chunk=len(x))
        norms = [m for m in frozen.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        assert len(norms) == len(expected) == 2
        for m, values in zip(norms, expected):
            torch.testing.assert_close(m.running_mean, values.mean(1), rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(m.running_var, values.var(1, unbiased=True), rtol=1e-4, atol=1e-5)


def test_chunks_are_averaged_with_equal_weight_and_the_net_comes_back_frozen():
    g = stream(0, "test-nets", "chunks")
    net = nets.mlp([5, 7, 3], batch_norm=True, generator=g, bn_affine=False)
    x = torch.randn(1200, 5, generator=g) * 2 + 1
    with torch.no_grad():
        pre = net[0](x)  # the first BN layer's input does not depend on the chunking
    out = nets.refresh_bn_statistics_(net, x, chunk=400)  # three equal chunks
    bn = out[1]
    assert out is net and not out.training and bn.momentum == 0.1 and int(bn.num_batches_tracked) == 3
    torch.testing.assert_close(bn.running_mean, pre.mean(0), rtol=1e-5, atol=1e-6)
    chunk_vars = torch.stack([c.var(0, unbiased=True) for c in pre.split(400)])
    torch.testing.assert_close(bn.running_var, chunk_vars.mean(0), rtol=1e-5, atol=1e-6)
    uneven = nets.refresh_bn_statistics_(net, x, chunk=500)[1]  # chunks of 500, 500 and 200
    torch.testing.assert_close(uneven.running_mean, torch.stack([c.mean(0) for c in pre.split(500)]).mean(0),
                               rtol=1e-5, atol=1e-6)
