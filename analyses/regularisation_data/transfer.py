"""K10–K12: transfer on MNIST-5k from a 784-H-H-5 MLP trained on digits 0–4 to digits 5–9:
linear probes on its layers against random-init layers (and, as the control that must fail, a
net pretrained on shuffled labels) and a net trained from scratch, and fine-tuning at lr and
lr/10 with the forgetting of the source task."""

from __future__ import annotations


import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dlclaims.methods import data, training
from dlclaims.rng import np_stream, stream

from .networks import forward, init_mlp


def split(cfg):
    """Fixed (seed-independent) split of ``cfg.tr_data``: per class, ``tr_source_test`` held-out
    digits of 0–4 (the rest train the source net) and ``tr_target_test`` test digits of 5–9 (the
    rest are the pool the labels are drawn from); labels renumbered 0–4 in both tasks."""
    x, y = data.arrays(cfg.tr_data)
    fewest = np.bincount(y).min()
    if cfg.tr_source_test >= fewest or cfg.tr_target_test + max(cfg.labels) > fewest:
        raise ValueError(f"{cfg.tr_data} has {fewest} digits in its smallest class: too few for --tr-source-test "
                         f"{cfg.tr_source_test}, or for --tr-target-test {cfg.tr_target_test} plus {max(cfg.labels)} "
                         "labels per class")
    rng = np_stream(0, "transfer", "split")
    held = {c: rng.permutation(np.flatnonzero(y == c)) for c in range(10)}
    src_test = np.concatenate([held[c][:cfg.tr_source_test] for c in range(5)])
    src_train = np.sort(np.concatenate([held[c][cfg.tr_source_test:] for c in range(5)]))
    test = np.concatenate([held[c][:cfg.tr_target_test] for c in range(5, 10)])
    pool = np.sort(np.concatenate([held[c][cfg.tr_target_test:] for c in range(5, 10)]))
    t = lambda i: torch.from_numpy(x[i])  # noqa: E731
    return dict(src_train=(t(src_train), torch.from_numpy(y[src_train])),
                src_test=(t(src_test), torch.from_numpy(y[src_test])),
                pool=(x[pool], y[pool] - 5), tgt_test=(t(test), torch.from_numpy(y[test] - 5)))


def fit(params, x, y, lr: float, momentum: float, steps: int, batch: int = 0, generator=None,
        checkpoints=(), on_checkpoint=None):
    """SGD + momentum on the cross-entropy of ``forward(params, x)``: mini-batches of ``batch``
    drawn with replacement where the set is larger than that, else full batch."""
    velocity = [torch.zeros_like(p) for p in params]
    batches = training.random_batches(len(y), batch, steps, generator) if 0 < batch < len(y) else None
    for t in range(1, steps + 1):
        xb, yb = (x, y) if batches is None else (lambda i: (x[i], y[i]))(next(batches))
        loss = F.cross_entropy(forward(params, xb), yb)
        training.sgd_step_(params, torch.autograd.grad(loss, params), velocity, lr, momentum)
        if t in checkpoints:
            on_checkpoint(t)


def accuracy(params, x, y) -> float:
    with torch.no_grad():
        return float((forward(params, x).argmax(1) == y).float().mean())


def features(params, x: torch.Tensor, layer: int) -> np.ndarray:
    """ReLU activations after hidden layer ``layer`` (1 or 2)."""
    with torch.no_grad():
        h = x
        for i in range(layer):
            h = torch.relu(h @ params[2 * i] + params[2 * i + 1])
        return h.numpy()


def probe(train_x, train_y, test_x, test_y) -> float:
    """Test accuracy of a multinomial logistic regression (L2, C = 1) on the features,
    standardised on the labelled examples."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)).fit(train_x, train_y)
    return float(model.score(test_x, test_y))


def labelled(pool, per_class: int, rng: np.random.Generator):
    x, y = pool
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(5)])
    return x[idx], y[idx]


def pretrain(cfg, seed: int, sp, sizes, shuffled: bool = False):
    """The source net: mini-batch SGD on digits 0–4 (``shuffled``: on the same digits with their
    labels permuted, the control whose features must not transfer); same init and batches."""
    x, y = sp["src_train"]
    if shuffled:
        y = y[torch.randperm(len(y), generator=stream(seed, "transfer", "shuffled labels"))]
    params = init_mlp(sizes, stream(seed, "transfer", "source init"))
    fit(params, x, y, cfg.tr_lr, cfg.momentum, cfg.tr_source_steps, cfg.batch, stream(seed, "transfer", "batches"))
    return params


flushed_denormals = training.flushed_denormals  # every unit runs inside it (bit-identical tables, far faster)


def transfer_unit(cfg, seed: int) -> dict[str, pd.DataFrame]:
    with flushed_denormals():
        return _transfer_unit(cfg, seed)


def _transfer_unit(cfg, seed: int) -> dict[str, pd.DataFrame]:
    sp = split(cfg)
    sizes = (sp["src_train"][0].shape[1], cfg.tr_width, cfg.tr_width, 5)
    source = pretrain(cfg, seed, sp, sizes)
    shuffled = pretrain(cfg, seed, sp, sizes, shuffled=True)
    random = init_mlp(sizes, stream(seed, "transfer", "random init"))
    src_acc = accuracy(source, *sp["src_test"])
    tx, ty = sp["tgt_test"]
    nets = {"source": source, "random": random, "shuffled": shuffled}
    probed = [("source", 1), ("source", 2), ("random", 1), ("random", 2), ("shuffled", 2)]
    feats = {(net, layer): features(nets[net], tx, layer) for net, layer in probed}
    probes = []
    labels_rng = np_stream(seed, "transfer", "labels")
    draws = {k: labelled(sp["pool"], k, labels_rng) for k in cfg.labels}
    for k, (lx, ly) in draws.items():
        x_l = torch.from_numpy(lx)
        row = dict(seed=seed, labels=k, source_acc=src_acc,
                   shuffled_source_acc=accuracy(shuffled, *sp["src_test"]))
        for (net, layer), test_f in feats.items():
            row[f"probe_{net}_{layer}"] = probe(features(nets[net], x_l, layer), ly, test_f, ty.numpy())
        scratch = init_mlp(sizes, stream(seed, "transfer", "scratch init", k))
        fit(scratch, x_l, torch.from_numpy(ly), cfg.tr_lr, cfg.momentum, cfg.tr_scratch_steps, cfg.batch,
            stream(seed, "transfer", "scratch batches", k))
        row["scratch"] = accuracy(scratch, tx, ty)
        probes.append(row)
    return {"transfer_probes": pd.DataFrame(probes), "fine_tuning": fine_tune(cfg, seed, sp, source, src_acc, draws)}


def fine_tune(cfg, seed: int, sp, source, src_acc: float, draws) -> pd.DataFrame:
    """Backbone + a fresh head trained on ``tr_ft_labels`` labels per class of 5–9 at lr and
    lr/10 (same new head, same labels; full batch); at each checkpoint the source accuracy
    through the old head (forgetting) and the target accuracy through the new one."""
    lx, ly = (torch.from_numpy(a) for a in draws[cfg.tr_ft_labels])
    head = init_mlp((cfg.tr_width, 5), stream(seed, "transfer", "new head"))
    rows = []
    for name, lr in (("lr", cfg.tr_lr), ("lr/10", cfg.tr_lr / 10)):
        backbone = [p.detach().clone().requires_grad_() for p in source[:4]]
        new = backbone + [p.detach().clone().requires_grad_() for p in head]
        old_head = [p.detach() for p in source[4:]]

        def record(t, new=new, backbone=backbone, name=name):
            rows.append(dict(seed=seed, rate=name, steps=t, source_acc_before=src_acc,
                             source_acc=accuracy(backbone + old_head, *sp["src_test"]),
                             target_acc=accuracy(new, *sp["tgt_test"])))

        fit(new, lx, ly, lr, cfg.momentum, max(cfg.tr_ft_steps), checkpoints=set(cfg.tr_ft_steps), on_checkpoint=record)
    return pd.DataFrame(rows).assign(forgetting=lambda d: d.source_acc_before - d.source_acc)
