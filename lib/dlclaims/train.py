"""A plain mini-batch SGD training loop for the small classifiers of the analyses."""

from __future__ import annotations

import torch
from torch import nn

from dlclaims.progress import progress


def sgd_train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    desc: str = "train",
    on_step=None,
) -> list[float]:
    """Train with cross-entropy by SGD on batches drawn without replacement per epoch.

    ``on_step(step, model, loss)`` is called after each step (for curves); returns the
    per-step training losses. Deterministic given ``generator``.
    """
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    losses: list[float] = []
    order = torch.empty(0, dtype=torch.long)
    for step in progress(range(steps), desc=desc):
        if order.numel() < batch_size:
            order = torch.randperm(len(y), generator=generator)
        idx, order = order[:batch_size].to(x.device), order[batch_size:]
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, model, loss)
    return losses
