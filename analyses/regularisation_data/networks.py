"""K4 (dropped units under five optimisers, float64) and the MNIST-1D training runs behind
K6–K9 and K14: validation curves, test-set selection, shift augmentation and test-time views."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from dlclaims.methods import data, training
from dlclaims.methods import regularisation as reg
from dlclaims.methods.dropout import bernoulli_mask
from dlclaims.rng import np_stream, stream

HELD_OUT = 0.4  # 2000 of MNIST-1D's 5000 held out (validation half, fresh half); the other 3000 are the pool
MOVED = 1e-12  # a relative change above float64 round-off: the weight moved


def init_mlp(sizes: tuple[int, ...], generator: torch.Generator, dtype=torch.float32) -> list[torch.Tensor]:
    """[W1, b1, ...]: He normal hidden layers, LeCun output, zero biases."""
    params = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        std = math.sqrt((2.0 if i < len(sizes) - 2 else 1.0) / a)
        params += [(torch.randn(a, b, generator=generator, dtype=dtype) * std).requires_grad_(),
                   torch.zeros(b, dtype=dtype, requires_grad=True)]
    return params


def forward(params: list[torch.Tensor], x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Logits of a ReLU MLP; ``masks`` (one 0/1 vector per hidden layer) drop hidden units."""
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i < len(params) - 2:
            h = torch.relu(h)
            if masks is not None:
                h = h * masks[i // 2]
    return h


# --- K4: what moves when a unit is dropped -------------------------------------------------------

def adam_step_(params, grads, state, lr: float, t: int, rho1=0.9, rho2=0.999, eps=1e-8) -> None:
    """torch.optim.Adam's step (bias-corrected moments), in place."""
    with torch.no_grad():
        for p, g, (m, v) in zip(params, grads, state):
            m.mul_(rho1).add_(g, alpha=1 - rho1)
            v.mul_(rho2).addcmul_(g, g, value=1 - rho2)
            p.addcdiv_(m / (1 - rho1**t), (v / (1 - rho2**t)).sqrt().add_(eps), value=-lr)


def optimiser_step(name: str, params, lr: float):
    """One step function per optimiser (the heavy-ball step is torch.optim.SGD's, tested there);
    Adam at lr/100, its usual scale relative to SGD's."""
    velocity = [torch.zeros_like(p) for p in params]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    if name == "adam":
        return lambda grads, t: adam_step_(params, grads, moments, lr / 100, t)
    momentum, decay = {"sgd": (0.0, 0.0), "momentum": (0.9, 0.0), "weight_decay": (0.0, 5e-4)}[name]
    return lambda grads, t: training.sgd_step_(params, grads, velocity, lr, momentum, decay)


def dropped_mask(params: list[torch.Tensor], masks: list[torch.Tensor]) -> list[torch.Tensor]:
    """Per parameter, True where the weight goes into or out of a dropped hidden unit."""
    out = []
    for i in range(0, len(params), 2):
        w = params[i]
        into = ~masks[i // 2].bool() if i // 2 < len(masks) else torch.zeros(w.shape[1], dtype=torch.bool)
        from_ = ~masks[i // 2 - 1].bool() if i > 0 else torch.zeros(w.shape[0], dtype=torch.bool)
        out += [into[None, :] | from_[:, None], into]
    return out


def k4(cfg) -> pd.DataFrame:
    """``k4_steps`` steps of a 20-32-32-5 float64 MLP with one hidden-dropout mask per mini-batch,
    under each optimiser from the same start, data, batches and masks."""
    rows = []
    g = stream(0, "k4", "data")
    x, y = torch.randn(256, 20, generator=g, dtype=torch.float64), torch.randint(5, (256,), generator=g)
    for name in cfg.optimiser:
        params = init_mlp((20, 32, 32, 5), stream(0, "k4", "init"), torch.float64)
        step = optimiser_step(name, params, cfg.lr)
        batches, masker = stream(0, "k4", "batches"), stream(0, "k4", "masks")
        grad_max = update_max = 0.0
        moved = dropped = 0
        for t, idx in enumerate(training.random_batches(256, 32, cfg.k4_steps, batches), start=1):
            masks = [bernoulli_mask((32,), 0.5, masker, torch.float64) for _ in range(2)]
            before = [p.detach().clone() for p in params]
            grads = torch.autograd.grad(F.cross_entropy(forward(params, x[idx], masks), y[idx]), params)
            where = dropped_mask(params, masks)
            grad_max = max([grad_max] + [float(g[w].abs().max()) for g, w in zip(grads, where) if w.any()])
            step(grads, t)
            with torch.no_grad():
                for p, b, w in zip(params, before, where):
                    change = (p - b)[w].abs()
                    update_max = max(update_max, float(change.max())) if w.any() else update_max
                    moved += int((change > MOVED * b[w].abs().clamp_min(1e-300)).sum())
                    dropped += int(w.sum())
        rows.append(dict(optimiser=name, steps=cfg.k4_steps, grad_max=grad_max, update_max=update_max,
                         moved=moved, dropped=dropped, moved_share=moved / dropped))
    return pd.DataFrame(rows)


# --- MNIST-1D training runs ------------------------------------------------------------------

def held_out_split():
    return data.split("mnist1d", test_fraction=HELD_OUT, seed=0)


def evaluate(params, x, y):
    with torch.no_grad():
        logits = forward(params, x)
        return F.cross_entropy(logits, y, reduction="none").numpy(), (logits.argmax(1) == y).numpy()


def train_run(cfg, seed: int, n_train: int, augment: str, decay: float = 0.0, keep: float = 1.0,
              track: bool = True):
    """One net on ``n_train`` pool digits (drawn per seed), SGD + momentum, shifts of up to
    ``max_shift`` samples per example when ``augment == "shift"``, weight decay ``decay`` (on
    every parameter, torch.optim.SGD's) and inverted hidden dropout at keep ``keep``; per-example
    held-out losses and hits at every evaluation (only the last one unless ``track``). Nets of one
    seed share their init, training digits and batches whatever the regulariser (paired)."""
    sp = held_out_split()
    pick = torch.from_numpy(np_stream(seed, "subset", n_train).choice(len(sp.y_train), n_train, replace=False))
    x, y = sp.x_train[pick], sp.y_train[pick]
    params = init_mlp((x.shape[1], cfg.width, cfg.width, 10), stream(seed, "init"))
    velocity = [torch.zeros_like(p) for p in params]
    shifts, dropper = stream(seed, "shifts"), stream(seed, "dropout")
    steps, losses, hits, train_loss = [], [], [], []

    def record(t):
        steps.append(t)
        loss, hit = evaluate(params, sp.x_test, sp.y_test)
        losses.append(loss), hits.append(hit), train_loss.append(float(evaluate(params, x, y)[0].mean()))

    for t, idx in enumerate(training.random_batches(n_train, cfg.batch, cfg.steps, stream(seed, "batches"))):
        if track and t % cfg.eval_every == 0:
            record(t)
        xb = x[idx]
        if augment == "shift":
            xb = reg.shift(xb, torch.randint(-cfg.max_shift, cfg.max_shift + 1, (len(idx),), generator=shifts))
        masks = None if keep == 1.0 else [bernoulli_mask((len(idx), cfg.width), keep, dropper) / keep
                                          for _ in range(2)]
        loss = F.cross_entropy(forward(params, xb, masks), y[idx])
        training.sgd_step_(params, torch.autograd.grad(loss, params), velocity, cfg.lr, cfg.momentum, decay)
    record(cfg.steps)
    final = dict(train_acc=float(evaluate(params, x, y)[1].mean()), weight_norm=weight_norm(params))
    return sp, params, np.array(steps), np.array(losses), np.array(hits), np.array(train_loss), final


def weight_norm(params) -> float:
    """Frobenius norm of all weight matrices together (biases left out, as weight decay's
    target is 'large weights')."""
    with torch.no_grad():
        return float(torch.sqrt(sum((w**2).sum() for w in params[::2])))


def ablation(cfg, seed: int, params, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """K5: held-out accuracy lost when a share f of each hidden layer's units is zeroed
    (``lost``, the catalogue's ablation), and when the survivors are also scaled by 1/(1 − f) so
    that the next layer's expected input is kept (``lost_rescaled``, inverted dropout's training
    condition), averaged over ``ablation_draws`` random choices of the units; the choices depend
    on the seed and f only, so a seed's nets lose the same units (paired)."""
    base = float(hits_of(params, x, y).mean())
    rows = []
    for f in cfg.ablate:
        rng = np_stream(seed, "ablation", f"{f:g}")
        lost, lost_rescaled = [], []
        for _ in range(cfg.ablation_draws):
            masks = []
            for _layer in range(2):
                m = torch.ones(cfg.width)
                m[torch.from_numpy(rng.choice(cfg.width, int(round(f * cfg.width)), replace=False))] = 0.0
                masks.append(m)
            lost.append(base - float(hits_of(params, x, y, masks).mean()))
            scaled = [m * cfg.width / m.sum() for m in masks]
            lost_rescaled.append(base - float(hits_of(params, x, y, scaled).mean()))
        rows.append(dict(share=f, base_acc=base, lost=float(np.mean(lost)),
                         lost_rescaled=float(np.mean(lost_rescaled))))
    return pd.DataFrame(rows)


def hits_of(params, x, y, masks=None) -> np.ndarray:
    with torch.no_grad():
        return (forward(params, x, masks).argmax(1) == y).numpy()


def regularised_unit(cfg, seed: int, n_train: int, regulariser: str, strength: float) -> dict[str, pd.DataFrame]:
    """K1 (``weight_decay``, strength λ) or K5 (``dropout``, strength the drop rate): one
    unaugmented net, read at the end; its λ = 0 / no-dropout partner is the unaugmented net of
    :func:`mnist1d_unit` (same seed: same init, digits and batches)."""
    decay, keep = (strength, 1.0) if regulariser == "weight_decay" else (0.0, 1.0 - strength)
    sp, params, _, _, hits, _, final = train_run(cfg, seed, n_train, "none", decay, keep, track=False)
    tag = dict(seed=seed, n_train=n_train, regulariser=regulariser, strength=strength)
    out = {"regularised": pd.DataFrame([dict(**tag, **final, test_acc=float(hits[-1].mean()))])}
    if regulariser == "dropout":
        out["ablation"] = ablation(cfg, seed, params, sp.x_test, sp.y_test).assign(**tag)
    return out


def curves(steps, losses, hits, train_loss, half: int) -> pd.DataFrame:
    return pd.DataFrame(dict(step=steps, train_loss=train_loss, val_loss=losses[:, :half].mean(1),
                             val_acc=hits[:, :half].mean(1), held_out_acc=hits.mean(1)))


def selection(cfg, seed: int, steps, hits) -> pd.DataFrame:
    """K7: pick the step of best accuracy on a random selecting set of each size; its accuracy
    there minus on the rest of the held-out digits, averaged over ``resplits`` splits."""
    rng = np_stream(seed, "resplits")
    n = hits.shape[1]
    later = steps > 0
    rows = []
    for size in cfg.select_size:
        bias = []
        for _ in range(cfg.resplits):
            order = rng.permutation(n)
            chosen, fresh = hits[:, order[:size]].mean(1), hits[:, order[size:]].mean(1)
            best = int(np.argmax(chosen))
            bias.append(chosen[best] - fresh[best])
        acc = hits[later].mean(1)
        rows.append(dict(select_size=size, bias=float(np.mean(bias)), span=float(acc.max() - acc.min())))
    return pd.DataFrame(rows)


def noise(cfg, seed: int, steps, losses, train_loss) -> pd.DataFrame:
    """K14: validation losses on random subsets of each size, over the evaluations after the
    first tenth of training: the sd of their changes between evaluations, and the share of
    evaluations where the subset's loss is below the training loss."""
    rng = np_stream(seed, "subsets")
    late = steps >= cfg.steps / 10
    loss, train = losses[late], train_loss[late]
    rows = []
    for size in cfg.n_val:
        idx = np.stack([rng.choice(loss.shape[1], size, replace=False) for _ in range(cfg.val_subsets)])
        sub = loss[:, idx].mean(-1)  # [evaluations, subsets]
        rows.append(dict(n_val=size, change_sd=float(np.diff(sub, axis=0).std(0, ddof=1).mean()),
                         below_share=float((sub < train[:, None]).mean())))
    return pd.DataFrame(rows)


def shifted_views(cfg, params, x: torch.Tensor, y: torch.Tensor) -> dict:
    """K8b: share of digits whose prediction no shift of ≤ ``max_shift`` samples changes; K9: the
    average of the softmax over shifts of ≤ ``tta_shift`` against the unshifted view, its
    disagreement share and the AUROC of the predictive entropy for flagging errors."""
    with torch.no_grad():
        def probs(by):
            return torch.softmax(forward(params, reg.shift(x, by)), 1)

        base = probs(0)
        pred = base.argmax(1)
        same = torch.stack([probs(s).argmax(1) == pred for s in range(-cfg.max_shift, cfg.max_shift + 1)]).all(0)
        views = torch.stack([probs(s) for s in range(-cfg.tta_shift, cfg.tta_shift + 1)])
        mean = views.mean(0)
        votes = views.argmax(2)
        errors = (mean.argmax(1) != y).numpy()
        single_errors = (pred != y).numpy()

        def entropy(p):
            return (-(p * p.clamp_min(1e-30).log()).sum(1)).numpy()

        return dict(invariant_share=float(same.float().mean()), single_acc=float(1 - single_errors.mean()),
                    tta_acc=float(1 - errors.mean()), disagree_share=float((votes != votes[0]).any(0).float().mean()),
                    errors=int(errors.sum()), auroc_tta=float(roc_auc_score(errors, entropy(mean))),
                    auroc_single=float(roc_auc_score(single_errors, entropy(base))))


def mnist1d_unit(cfg, seed: int, n_train: int, augment: str) -> dict[str, pd.DataFrame]:
    sp, params, steps, losses, hits, train_loss, final = train_run(cfg, seed, n_train, augment)
    tag = dict(seed=seed, n_train=n_train, augment=augment)
    half = len(sp.y_test) // 2
    views = shifted_views(cfg, params, sp.x_test, sp.y_test)
    out = {"curves": curves(steps, losses, hits, train_loss, half).assign(**tag),
           "selection": selection(cfg, seed, steps, hits).assign(**tag),
           "noise": noise(cfg, seed, steps, losses, train_loss).assign(**tag),
           "shifts": pd.DataFrame([dict(**tag, train_acc=final["train_acc"], test_acc=float(hits[-1].mean()),
                                         **views)])}
    if augment == "none":  # the unregularised partner of K1's and K5's nets
        reg_tag = dict(seed=seed, n_train=n_train, regulariser="none", strength=0.0)
        out["regularised"] = pd.DataFrame([dict(**reg_tag, **final, test_acc=float(hits[-1].mean()))])
        if n_train == cfg.k5_n_train:
            out["ablation"] = ablation(cfg, seed, params, sp.x_test, sp.y_test).assign(**reg_tag)
    return out
