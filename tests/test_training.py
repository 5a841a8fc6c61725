"""The shared SGD step and loop against torch.optim.SGD, and the divergence stop."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlclaims.methods import training
from dlclaims.rng import stream


def _problem(seed: int = 0):
    g = stream(seed, "problem")
    x, y = torch.randn(64, 5, generator=g), torch.randint(3, (64,), generator=g)
    w, b = torch.randn(5, 3, generator=g, requires_grad=True), torch.zeros(3, requires_grad=True)
    return x, y, w, b


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.5, 1e-2)])
def test_the_fold_takes_torch_optim_sgds_steps_to_the_bit(momentum, weight_decay):
    x, y, w, b = _problem()
    w2, b2 = w.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    batches = list(training.random_batches(64, 8, 25, stream(1, "batches")))
    losses = training.train([w, b], lambda i: F.cross_entropy(x[i] @ w + b, y[i]), batches, lr=0.1,
                            momentum=momentum, weight_decay=weight_decay)
    opt = torch.optim.SGD([w2, b2], lr=0.1, momentum=momentum, weight_decay=weight_decay)
    reference = []
    for i in batches:
        loss = F.cross_entropy(x[i] @ w2 + b2, y[i])
        reference.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses == reference
    assert torch.equal(w, w2) and torch.equal(b, b2)


def test_training_stops_before_stepping_once_the_loss_diverges():
    x, y, w, b = _problem()
    before = w.detach().clone()
    losses = training.train([w, b], lambda i: F.cross_entropy(x[i] @ w + b, y[i]) * 1e3,
                            training.random_batches(64, 8, 50, stream(2, "batches")), lr=50.0, diverged=10.0)
    assert len(losses) < 50 and (not math.isfinite(losses[-1]) or losses[-1] > 10 * losses[0])
    assert not torch.equal(w, before)


def test_an_epoch_visits_every_index_once_in_full_batches():
    seen = torch.cat(list(training.epoch_batches(23, 5, stream(3, "order"))))
    assert len(seen) == 20 and len(set(seen.tolist())) == 20 and seen.max() < 23
    assert [len(b) for b in training.random_batches(10, 4, 3, stream(3, "draws"))] == [4, 4, 4]
