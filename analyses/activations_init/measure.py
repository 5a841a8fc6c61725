"""The measurements of activations-init: bias-free nets at init (per-layer profiles), the exact pieces,
the H5 trainings from constant, zero and random inits, and the H3 dying-ReLU runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from dlclaims.methods import data, inits, training
from dlclaims.rng import np_stream, stream

from . import EFFECTIVELY_DEAD, SIG_SAT, TANH_SAT, Config

# --- measurement: nets at init ------------------------------------------------------------------

F64 = torch.float64
ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
SAT = {"sigmoid": SIG_SAT, "tanh": TANH_SAT}
VARIANT = ("act", "init", "dist", "gain", "depth", "width", "ratio", "input_moment")


def weight_variance(init: str, fan_in: int, fan_out: int) -> float:
    """002's printed w ∼ (2/√n)·N(0, 1) has Var = 4/n; the others from methods.inits."""
    return 4.0 / fan_in if init == "two_over_root_n" else inits.variance(init, fan_in, fan_out)


def draw(shape: tuple[int, int], var: float, gen: torch.Generator, dist: str) -> torch.Tensor:
    if dist == "uniform":
        return (torch.rand(shape, generator=gen, dtype=F64) * 2 - 1) * math.sqrt(3 * var)
    return torch.randn(shape, generator=gen, dtype=F64) * math.sqrt(var)


def widths_of(v: dict, n_in: int) -> list[int]:
    """Input, hidden widths (alternating width, width·ratio for H8's net), and the 10-way head."""
    hidden = [v["width"] * (v["ratio"] if i % 2 else 1) for i in range(v["depth"])]
    return [n_in, *hidden, 10]


def profile(x: torch.Tensor, y: torch.Tensor, v: dict, gen: torch.Generator) -> list[dict]:
    """Per hidden layer of one bias-free net at init: the second moments of its input, pre- and
    post-activation, its saturated share, ‖∂L/∂W_l‖ and Σ‖δ_l‖² (δ = ∂L/∂pre-activation)."""
    sizes = widths_of(v, x.shape[1])
    weights = [draw((o, i), v["gain"] ** 2 * weight_variance(v["init"], i, o), gen, v["dist"]).requires_grad_()
               for i, o in zip(sizes[:-2], sizes[1:-1])]
    bound = 1 / math.sqrt(sizes[-2])  # the head: PyTorch's default U(±1/√n), unscaled
    head = (torch.rand((10, sizes[-2]), generator=gen, dtype=F64) * 2 - 1) * bound
    h, zs, hs = x * math.sqrt(v["input_moment"]), [], []
    for w in weights:
        hs.append(h)
        z = h @ w.T
        z.retain_grad()
        zs.append(z)
        h = ACT[v["act"]](z)
    F.cross_entropy(h @ head.T, y).backward()
    rows = []
    for layer, (w, z, h_in) in enumerate(zip(weights, zs, hs), start=1):
        out = ACT[v["act"]](z)
        sat = (z.abs() > SAT[v["act"]]).double().mean().item() if v["act"] in SAT else (z <= 0).double().mean().item()
        rows.append(dict(layer=layer, fan_in=w.shape[1], fan_out=w.shape[0], in_moment=h_in.pow(2).mean().item(),
                         pre_moment=z.pow(2).mean().item(), moment=out.pow(2).mean().item(), saturated=sat,
                         grad=w.grad.norm().item(), delta2=z.grad.pow(2).sum().item()))
    return rows


def variant(act, init="xavier", dist="normal", gain=1.0, depth=10, width=256, ratio=1, input_moment=1.0) -> dict:
    return dict(act=act, init=init, dist=dist, gain=float(gain), depth=int(depth), width=int(width),
                ratio=int(ratio), input_moment=float(input_moment))


def init_variants(cfg: Config) -> list[dict]:
    """Every net the init-time rows read, once each."""
    d, w = cfg.depth, cfg.width
    out = [variant(a, "xavier", gain=g, depth=d, width=w) for a in ("sigmoid", "tanh") for g in cfg.gains]
    out += [variant("relu", "he", depth=k, width=w) for k in cfg.depths]
    out += [variant(a, "xavier", depth=k, width=w) for a in ("sigmoid", "tanh") for k in cfg.glorot_depths]
    out += [variant(a, i, depth=d, width=w) for a in cfg.h7_activations for i in ("he", "two_over_root_n")]
    out += [variant("relu", "xavier", depth=d, width=cfg.narrow, ratio=r) for r in cfg.width_ratios]
    out += [variant("relu", "he", dist=dist, depth=d, width=w) for dist in ("normal", "uniform")]
    out += [variant("tanh", "he", depth=d, width=w, input_moment=m) for m in cfg.input_moments]
    out += [variant("tanh", "he", depth=cfg.deep, width=k) for k in cfg.h11_widths]
    out += [variant("relu", "he", gain=s, depth=cfg.deep, width=w) for s in cfg.scales]
    unique = {tuple(v.values()): v for v in out}
    return list(unique.values())


def inputs_for(cfg: Config, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = data.arrays("mnist1d")
    idx = np_stream(seed, "inputs").choice(len(y), cfg.inputs, replace=False)
    return torch.from_numpy(x[idx]).to(F64), torch.from_numpy(y[idx])


def init_unit(cfg: Config, seed: int) -> pd.DataFrame:
    """Every variant's per-layer profile; the gains of one architecture share their draws (paired)."""
    x, y = inputs_for(cfg, seed)
    rows = []
    for v in init_variants(cfg):
        gen = stream(seed, "weights", v["act"], v["init"], v["dist"], v["depth"], v["width"], v["ratio"])
        rows += [dict(seed=seed, **v, **r) for r in profile(x, y, v, gen)]
    return pd.DataFrame(rows)


def exact_unit(cfg: Config) -> pd.DataFrame:
    """H1e's derivative bounds on a grid, H2a's one-signed gradient rows, H9a's Monte Carlo identities."""
    u = np.linspace(-40.0, 40.0, 800_001)
    sig = 1 / (1 + np.exp(-u))
    th = np.tanh(u)
    sat_sig = (sig < 0.05) | (sig > 0.95)
    sat_tanh = np.abs(th) >= 0.95
    rows = [dict(quantity="sigmoid_derivative_over_bound", value=float((sig * (1 - sig))[sat_sig].max() / 0.0475)),
            dict(quantity="tanh_derivative_over_bound", value=float((1 - th**2)[sat_tanh].max() / 0.0975))]
    rows += [dict(quantity=f"one_signed_rows_{a}", value=one_signed_share(cfg, a)) for a in ("sigmoid", "tanh")]
    rng = np_stream(0, "monte-carlo")
    w = rng.normal(0.3, 0.5, cfg.mc_draws)
    x = rng.uniform(0.0, 2.0, cfg.mc_draws)  # independent, both with non-zero means
    identity = x.mean() ** 2 * w.var() + w.mean() ** 2 * x.var() + w.var() * x.var()
    yy = rng.normal(0.0, 1.3, cfg.mc_draws)
    rows += [dict(quantity="product_variance_error", value=float(abs((w * x).var() / identity - 1))),
             dict(quantity="relu_half_variance_error", value=float(abs(np.mean(np.maximum(yy, 0) ** 2)
                                                                        / (0.5 * yy.var()) - 1)))]
    return pd.DataFrame(rows)


def one_signed_share(cfg: Config, act: str, samples: int = 32) -> float:
    """Share of non-zero per-sample ∂L/∂W₂ rows whose entries share a sign, W₂ fed by ``act`` units."""
    x, y = inputs_for(cfg, 0)
    gen = stream(0, "one-signed", act)
    w1 = draw((cfg.width, x.shape[1]), inits.variance("xavier", x.shape[1], cfg.width), gen, "normal")
    w2 = draw((cfg.width, cfg.width), inits.variance("xavier", cfg.width, cfg.width), gen, "normal").requires_grad_()
    head = draw((10, cfg.width), inits.variance("xavier", cfg.width, 10), gen, "normal")
    one, nonzero = 0, 0
    for n in range(samples):
        (g,) = torch.autograd.grad(F.cross_entropy(ACT[act](ACT[act](x[n:n + 1] @ w1.T) @ w2.T) @ head.T, y[n:n + 1]),
                                   w2)
        live = g.abs().sum(1) > 0
        nonzero += int(live.sum())
        one += int((((g >= 0).all(1) | (g <= 0).all(1)) & live).sum())
    return one / nonzero


# --- measurement: training from constant, zero and random inits (H5) ---------------------------

def two_layer(n_in: int, hidden: int, init: str, gen: torch.Generator) -> list[torch.Tensor]:
    """[W₁, b₁, W₂, b₂] of an n_in-hidden-10 net in float64: Xavier normal ("random"), every weight of a
    layer equal to its Xavier standard deviation ("constant"), or all zeros ("zero"); biases 0."""
    shapes = [(hidden, n_in), (10, hidden)]
    ws = []
    for o, i in shapes:
        std = math.sqrt(inits.variance("xavier", i, o))
        if init == "random":
            ws.append(torch.randn((o, i), generator=gen, dtype=F64) * std)
        else:
            ws.append(torch.full((o, i), std if init == "constant" else 0.0, dtype=F64))
    params = [ws[0], torch.zeros(hidden, dtype=F64), ws[1], torch.zeros(10, dtype=F64)]
    return [p.requires_grad_() for p in params]


def forward(params, x, act: str, keep: float = 1.0, gen: torch.Generator | None = None) -> torch.Tensor:
    w1, b1, w2, b2 = params
    h = ACT[act](x @ w1.T + b1)
    if keep < 1.0:  # inverted dropout on the hidden units
        h = h * torch.bernoulli(torch.full_like(h, keep), generator=gen) / keep
    return h @ w2.T + b2


def row_spread(w: torch.Tensor) -> float:
    """Largest pairwise distance between rows over the mean row norm, from the differences w_i − w_j.

    Not ``torch.cdist``'s default: for more than 25 rows it computes ‖a‖² + ‖b‖² − 2a·b, which for
    a = b cancels to a few ulps of ‖a‖² and reports a distance of √(k·ε)·‖a‖ ≈ 1e-8 ‖a‖ between
    bit-identical rows (the 1.1e-8, 1.6e-8, 2.3e-8 = √(1, 2, 4)·1.1e-8 of the first baseline). From the
    differences, identical rows give exactly 0."""
    w = w.detach()
    return float(torch.cdist(w, w, compute_mode="donot_use_mm_for_euclid_dist").max() / w.norm(dim=1).mean())


def train_run(cfg: Config, split: data.Split, seed: int, hidden: int, init: str, act: str = "tanh",
              dropout: float = 0.0) -> dict:
    """Plain SGD on the batches every variant of this seed shares; the largest |∂L/∂W₁| over steps."""
    params = two_layer(split.n_features, hidden, init, stream(seed, "init", hidden))
    batches = training.random_batches(len(split.y_train), cfg.batch, cfg.steps, stream(seed, "batches"))
    drop = stream(seed, "dropout")
    largest = 0.0
    for idx in batches:
        loss = F.cross_entropy(forward(params, split.x_train[idx], act, 1 - dropout, drop), split.y_train[idx])
        grads = torch.autograd.grad(loss, params)
        largest = max(largest, float(grads[0].abs().max()))
        training.sgd_step_(params, grads, [torch.zeros_like(p) for p in params], cfg.lr)
    with torch.no_grad():
        acc = float((forward(params, split.x_test, act).argmax(1) == split.y_test).double().mean())
    return dict(seed=seed, hidden=hidden, init=init, act=act, dropout=dropout, test_acc=acc,
                row_spread=row_spread(params[0]), largest_hidden_grad=largest)


def train_unit(cfg: Config, seed: int) -> pd.DataFrame:
    split = data.split("mnist1d", seed=0).to(dtype=F64)
    runs = [train_run(cfg, split, seed, h, init) for h in cfg.hiddens for init in ("random", "constant")]
    runs += [train_run(cfg, split, seed, cfg.hidden, "zero", act) for act in ("tanh", "relu")]
    runs.append(train_run(cfg, split, seed, cfg.hidden, "constant", dropout=cfg.dropout))
    return pd.DataFrame(runs)


# --- measurement: dying ReLU (H3) ---------------------------------------------------------------

def dying_run(cfg: Config, split: data.Split, seed: int, slope: float, lr: float, momentum: float = 0.0) -> dict:
    """One H3 run: a 40-256-256-10 net in float32, He normal weights and zero biases, ReLU (slope 0) or
    Leaky ReLU, trained by torch.optim.SGD's step (plain or heavy ball). Every run of a seed starts from
    the same weights and sees the same batches. Recorded: dead units (pre-activation ≤ 0 on every
    training input) at init, at step steps/3 and at the end, and at the end each hidden unit's largest
    per-input back-propagated signal |δ| on the whole training set (from the summed loss: one row per input)."""
    gen = stream(seed, "dying-init")
    sizes = [split.n_features, cfg.h3_hidden, cfg.h3_hidden, 10]
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        params += [torch.randn((o, i), generator=gen) * math.sqrt(inits.variance("he", i, o)), torch.zeros(o)]
    params = [p.requires_grad_() for p in params]

    def forward(x):
        z1 = x @ params[0].T + params[1]
        z2 = F.leaky_relu(z1, slope) @ params[2].T + params[3]
        return z1, z2, F.leaky_relu(z2, slope) @ params[4].T + params[5]

    def dead() -> list[torch.Tensor]:  # per hidden unit of each layer: pre-activation ≤ 0 on every training input
        with torch.no_grad():
            return [(z <= 0).all(0) for z in forward(split.x_train)[:2]]

    at_init, checkpoint = dead(), None
    velocity = [torch.zeros_like(p) for p in params]
    losses = []
    for step, idx in enumerate(training.random_batches(len(split.y_train), cfg.batch, cfg.h3_steps,
                                                       stream(seed, "dying-batches"))):
        if step == cfg.h3_steps // 3:
            checkpoint = dead()
        loss = F.cross_entropy(forward(split.x_train[idx])[2], split.y_train[idx])
        losses.append(float(loss.detach()))
        training.sgd_step_(params, torch.autograd.grad(loss, params), velocity, lr, momentum)
    end = dead()
    z1, z2, out = forward(split.x_train)
    largest = [d.abs().amax(0) for d in torch.autograd.grad(F.cross_entropy(out, split.y_train, reduction="sum"),
                                                             (z1, z2))]
    units = 2 * cfg.h3_hidden
    with torch.no_grad():
        acc = float((forward(split.x_test)[2].argmax(1) == split.y_test).double().mean())
    finite = bool(np.isfinite(losses).all())
    return dict(seed=seed, act="relu" if slope == 0 else "leaky", lr=lr, optimiser="momentum" if momentum else "sgd",
                finite=finite, stable=finite and bool(np.mean(losses[-20:]) < losses[0]),
                dead_init=sum(int(d.sum()) for d in at_init) / units, dead_end=sum(int(d.sum()) for d in end) / units,
                dead_checkpoint_l1=int(checkpoint[0].sum()), revived_l1=int((checkpoint[0] & ~end[0]).sum()),
                dead_checkpoint_l2=int(checkpoint[1].sum()), revived_l2=int((checkpoint[1] & ~end[1]).sum()),
                zero_delta=sum(int((m == 0).sum()) for m in largest) / units,
                effectively_dead=sum(int((m < EFFECTIVELY_DEAD * m.median()).sum()) for m in largest) / units,
                test_acc=acc)


def dying_unit(cfg: Config, seed: int) -> pd.DataFrame:
    """H3's runs of one seed: ReLU and Leaky ReLU at every lr of the grid (plain SGD), and ReLU with
    momentum 0.9 at h3_lr / 10 (the same long-run step η/(1 − μ))."""
    split = data.split("mnist1d", seed=0)
    runs = [dying_run(cfg, split, seed, slope, lr) for slope in (0.0, cfg.leak) for lr in cfg.h3_lrs]
    if "momentum" in cfg.h3_optimisers:
        runs.append(dying_run(cfg, split, seed, 0.0, cfg.h3_lr / 10, momentum=0.9))
    return pd.DataFrame(runs)


