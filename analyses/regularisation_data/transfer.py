"""K10–K12: transfer on sklearn digits from a 64-H-H-5 MLP trained on digits 0–4 to digits 5–9:
linear probes on its layers against random-init layers and a net trained from scratch, and
fine-tuning at lr and lr/10 with the forgetting of the source task."""

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

SOURCE_HELD_OUT = 0.3  # of digits 0–4: ≈ 270 digits to measure the source accuracy and its forgetting
TARGET_TEST = 60  # per class of 5–9: a fixed 300-digit target test set; the rest (≥ 114 per class) is the label pool


def split():
    """Fixed (seed-independent) split: source train / held-out (0–4), target pool / test (5–9),
    labels renumbered 0–4 in both tasks."""
    x, y = data.arrays("digits")
    rng = np_stream(0, "transfer", "split")
    src, tgt = np.flatnonzero(y < 5), np.flatnonzero(y >= 5)
    src = rng.permutation(src)
    cut = int(round(len(src) * SOURCE_HELD_OUT))
    test = np.concatenate([rng.permutation(tgt[y[tgt] == c])[:TARGET_TEST] for c in range(5, 10)])
    pool = np.setdiff1d(tgt, test)
    t = lambda i: torch.from_numpy(x[i])  # noqa: E731
    return dict(src_train=(t(src[cut:]), torch.from_numpy(y[src[cut:]])),
                src_test=(t(src[:cut]), torch.from_numpy(y[src[:cut]])),
                pool=(x[pool], y[pool] - 5), tgt_test=(t(test), torch.from_numpy(y[test] - 5)))


def fit(params, x, y, lr: float, momentum: float, steps: int, checkpoints=(), on_checkpoint=None):
    """Full-batch SGD + momentum on the cross-entropy of ``forward(params, x)``."""
    velocity = [torch.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        loss = F.cross_entropy(forward(params, x), y)
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


def transfer_unit(cfg, seed: int) -> dict[str, pd.DataFrame]:
    sp = split()
    sizes = (sp["src_train"][0].shape[1], cfg.tr_width, cfg.tr_width, 5)
    source = init_mlp(sizes, stream(seed, "transfer", "source init"))
    fit(source, *sp["src_train"], cfg.tr_lr, cfg.momentum, cfg.tr_source_steps)
    random = init_mlp(sizes, stream(seed, "transfer", "random init"))
    src_acc = accuracy(source, *sp["src_test"])
    tx, ty = sp["tgt_test"]
    feats = {(net, layer): (features(p, tx, layer)) for net, p in (("source", source), ("random", random))
             for layer in (1, 2)}
    probes = []
    labels_rng = np_stream(seed, "transfer", "labels")
    draws = {k: labelled(sp["pool"], k, labels_rng) for k in cfg.labels}
    for k, (lx, ly) in draws.items():
        x_l = torch.from_numpy(lx)
        row = dict(seed=seed, labels=k, source_acc=src_acc)
        for (net, layer), test_f in feats.items():
            p = source if net == "source" else random
            row[f"probe_{net}_{layer}"] = probe(features(p, x_l, layer), ly, test_f, ty.numpy())
        scratch = init_mlp(sizes, stream(seed, "transfer", "scratch init", k))
        fit(scratch, x_l, torch.from_numpy(ly), cfg.tr_lr, cfg.momentum, cfg.tr_scratch_steps)
        row["scratch"] = accuracy(scratch, tx, ty)
        probes.append(row)
    return {"transfer_probes": pd.DataFrame(probes), "fine_tuning": fine_tune(cfg, seed, sp, source, src_acc, draws)}


def fine_tune(cfg, seed: int, sp, source, src_acc: float, draws) -> pd.DataFrame:
    """Backbone + a fresh head trained on ``tr_ft_labels`` labels per class of 5–9 at lr and
    lr/10 (same new head, same labels); at each checkpoint the source accuracy through the old
    head (forgetting) and the target accuracy through the new one."""
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

        fit(new, lx, ly, lr, cfg.momentum, max(cfg.tr_ft_steps), set(cfg.tr_ft_steps), record)
    return pd.DataFrame(rows).assign(forgetting=lambda d: d.source_acc_before - d.source_acc)
