"""The exact rows (G1-G6, G14): torch's BatchNorm1d, LayerNorm, GroupNorm and InstanceNorm1d
in float64 on synthetic Gaussian tensors, no training data."""

from __future__ import annotations

import math

from typing import TYPE_CHECKING

import pandas as pd
import torch
from torch import nn

from dlclaims.rng import stream

if TYPE_CHECKING:
    from . import Config

G1_MS = (2, 4, 8, 32)  # the batch sizes of the running-variance Monte Carlo
G1_CHUNK = 100  # Monte-Carlo batches drawn at once
G4_SCALES = tuple(10.0 ** (k / 2) for k in range(-6, 5))  # 10^-3 … 10^2
G5_SCALES = tuple(10.0 ** (k / 4) for k in range(0, 9))  # 1 … 100
G6_MS = (2, 4, 8, 16, 32, 64, 128)
EPS = 1e-5  # torch's default ε
SGD_LR = 0.1  # G5d's plain SGD
TINY_EPS = 1e-20  # the ε-free layer of G5c/G5d (torch refuses ε = 0 in training)


def running_variance_study(cfg: Config, g: torch.Generator) -> tuple[list[dict], list[dict]]:
    """G1: the lecture's m/(m−1)·E_B[σ²_B] against the known variance, per channel (the
    replicates), and torch's BatchNorm1d(momentum=None) running_var against the formula on
    the first batches (G1c: if they agree, the Monte Carlo of the formula is torch's)."""
    rows, checks = [], []
    c = cfg.mc_channels
    sigma2 = torch.exp(torch.empty(c, dtype=torch.float64).uniform_(-2, 2, generator=g))
    mu = torch.randn(c, dtype=torch.float64, generator=g)
    chunk = min(G1_CHUNK, cfg.mc_batches)
    for m in G1_MS:
        var_sum = torch.zeros(c, dtype=torch.float64)
        std_sum = torch.zeros(c, dtype=torch.float64)
        for start in range(0, cfg.mc_batches, chunk):
            n = min(chunk, cfg.mc_batches - start)
            x = mu + sigma2.sqrt() * torch.randn(n, m, c, dtype=torch.float64, generator=g)
            var_b = x.var(1, unbiased=False)  # (batches, channels): σ²_B
            var_sum += var_b.sum(0)
            std_sum += var_b.sqrt().sum(0)
            if start == 0:
                checks.append(dict(check="G1c", m=m, value=torch_running_var_gap(x, var_b)))
        plain = var_sum / cfg.mc_batches
        std_mean = std_sum / cfg.mc_batches
        corrected = m / (m - 1) * plain
        rows += [dict(m=m, channel=j, corrected_ratio=float(corrected[j] / sigma2[j]),
                      plain_ratio=float(plain[j] / sigma2[j]),
                      std_ratio=float(m / (m - 1) * std_mean[j] ** 2 / sigma2[j])) for j in range(c)]
    return rows, checks


def torch_running_var_gap(batches: torch.Tensor, var_b: torch.Tensor) -> float:
    """max |running_var / (m/(m−1)·mean σ²_B) − 1| after feeding ``batches`` (n, m, c) to
    BatchNorm1d(momentum=None) in train mode."""
    m = batches.shape[1]
    bn = nn.BatchNorm1d(batches.shape[2], momentum=None, affine=False, dtype=torch.float64)
    with torch.no_grad():
        for x in batches:
            bn(x)
    lecture = m / (m - 1) * var_b.mean(0)
    return float((bn.running_var / lecture - 1).abs().max())


def fold_study(g: torch.Generator, dtype) -> float:
    """G2: train Linear + BatchNorm1d 50 steps, then eval-mode BN(Wx + b) vs the folded layer."""
    lin, bn = nn.Linear(16, 32, dtype=dtype), nn.BatchNorm1d(32, dtype=dtype)
    with torch.no_grad():
        for p in lin.parameters():
            p.copy_(torch.randn(p.shape, dtype=dtype, generator=g) * 0.5)
    params = [*lin.parameters(), *bn.parameters()]
    target = torch.randn(32, dtype=dtype, generator=g)
    for _ in range(50):
        x = torch.randn(64, 16, dtype=dtype, generator=g) * 2 + 1
        grads = torch.autograd.grad(((bn(lin(x)) - target) ** 2).mean(), params)
        with torch.no_grad():
            for p, grad in zip(params, grads):
                p -= 0.05 * grad
    bn.eval()
    with torch.no_grad():
        w, b = fold(lin.weight, lin.bias, bn)
        x = torch.randn(256, 16, dtype=dtype, generator=g) * 2 + 1
        return float((bn(lin(x)) - (x @ w.T + b)).abs().max())


def fold(weight: torch.Tensor, bias: torch.Tensor, bn: nn.BatchNorm1d, sign: float = -1.0):
    """W' = γ/√(Var+ε)·W, b' = γ/√(Var+ε)·b + (β − γE[x]/√(Var+ε)); ``sign=+1`` is the
    formula with the minus lost (as the slide's text extraction shows it)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale[:, None] * weight, scale * bias + bn.bias + sign * scale * bn.running_mean


def identity_error(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> float:
    """G3: max |BN_{γ,β}(x) − x| in train mode (batch statistics)."""
    bn = nn.BatchNorm1d(x.shape[1], dtype=x.dtype)
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
        return float((bn(x) - x).abs().max())


def moment_study(g: torch.Generator) -> list[dict]:
    """G4: batch moments of BN's output while the previous layer's weights are scaled by a."""
    x = torch.randn(256, 64, dtype=torch.float64, generator=g)
    w = (torch.rand(32, 64, dtype=torch.float64, generator=g) * 2 - 1) * math.sqrt(6 / 64)
    bn = nn.BatchNorm1d(32, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(32, dtype=torch.float64, generator=g) * 1.5 + 0.5)
        bn.bias.copy_(torch.randn(32, dtype=torch.float64, generator=g))
        for _ in range(20):  # running statistics at a = 1
            bn(torch.randn(256, 64, dtype=torch.float64, generator=g) @ w.T)
        rows = []
        for a in G4_SCALES:
            z = a * (x @ w.T)
            row = dict(scale=a, min_var=float(z.var(0, unbiased=False).min()))
            for mode in ("train", "eval"):
                bn.train(mode == "train")
                saved = bn.running_mean.clone(), bn.running_var.clone()
                y = bn(z)
                bn.running_mean.copy_(saved[0])
                bn.running_var.copy_(saved[1])
                row[f"{mode}_deviation"] = output_moment_deviation(y, bn.weight, bn.bias)
            rows.append(row)
    return rows


def output_moment_deviation(y: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> float:
    """max over units of max(|batch mean − β|, |batch std / |γ| − 1|)."""
    mean_dev = (y.mean(0) - beta).abs().max()
    std_dev = (y.std(0, unbiased=False) / gamma.abs() - 1).abs().max()
    return float(torch.maximum(mean_dev, std_dev))


def scale_study(g: torch.Generator) -> tuple[list[dict], list[dict], float]:
    """G5: BN(aWx) vs BN(Wx) and the gradient with respect to aW (torch's ε = 1e-5); the
    orthogonality and plain-SGD identities of the ε-free layer (ε = 1e-20), which is what
    they are identities of (with ε = 1e-5 they hold to about ε/σ², shown in the table)."""
    x = torch.randn(256, 64, dtype=torch.float64, generator=g)
    w0 = (torch.rand(32, 64, dtype=torch.float64, generator=g) * 2 - 1) * math.sqrt(6 / 64)
    target = torch.randn(256, 32, dtype=torch.float64, generator=g)

    def loss_of(weight, bn):
        return 0.5 * ((torch.relu(bn(x @ weight.T)) - target) ** 2).mean()

    bn = nn.BatchNorm1d(32, dtype=torch.float64)
    with torch.no_grad():
        reference = bn(x @ w0.T)
    rows = []
    for a in G5_SCALES:
        w = (a * w0).requires_grad_()
        (grad,) = torch.autograd.grad(loss_of(w, bn), w)
        with torch.no_grad():
            rel_diff = float((bn(x @ w.T) - reference).norm() / reference.norm())
        rows.append(dict(scale=a, rel_diff=rel_diff, grad_norm=float(grad.norm())))
    sgd, cos = [], {}
    for eps in (TINY_EPS, EPS):
        layer = nn.BatchNorm1d(32, eps=eps, dtype=torch.float64)
        w = w0.clone().requires_grad_()
        (grad,) = torch.autograd.grad(loss_of(w, layer), w)
        cos[eps] = float(((grad * w0).sum(1) / (grad.norm(dim=1) * w0.norm(dim=1))).abs().max())
        for step in range(50):
            w = w.detach().requires_grad_()
            (grad,) = torch.autograd.grad(loss_of(w, layer), w)
            with torch.no_grad():
                new = w - SGD_LR * grad
                sgd.append(dict(eps=eps, step=step, norm_sq=float(w.norm() ** 2),
                                delta=float(new.norm() ** 2 - w.norm() ** 2),
                                lr2_grad_sq=float(SGD_LR ** 2 * grad.norm() ** 2), cos=cos[eps]))
            w = new
    return rows, sgd, cos[TINY_EPS]


def companion_study(cfg: Config, g: torch.Generator) -> tuple[list[dict], list[dict]]:
    """G6: one fixed sample's train-mode output over random batch companions, per norm and m."""
    c = 64
    mu = torch.randn(c, dtype=torch.float64, generator=g)
    sd = torch.exp(torch.empty(c, dtype=torch.float64).uniform_(-1, 1, generator=g))
    x0 = mu + sd * torch.randn(1, c, dtype=torch.float64, generator=g)
    layers = {"bn": nn.BatchNorm1d(c, dtype=torch.float64), "ln": nn.LayerNorm(c, dtype=torch.float64),
              "gn": nn.GroupNorm(8, c, dtype=torch.float64),
              "in": nn.InstanceNorm1d(16, dtype=torch.float64)}
    rows, samples = [], []
    with torch.no_grad():
        for m in G6_MS:
            outs = {k: [] for k in layers}
            for _ in range(cfg.companions):
                batch = torch.cat([x0, mu + sd * torch.randn(m - 1, c, dtype=torch.float64, generator=g)])
                for k, layer in layers.items():
                    out = layer(batch.reshape(m, 16, 4)).reshape(m, c) if k == "in" else layer(batch)
                    outs[k].append(out[0])
            for k, values in outs.items():
                stacked = torch.stack(values)
                std = stacked.std(0, unbiased=True)
                rows += [dict(norm=k, m=m, feature=j, std=float(std[j])) for j in range(c)]
                if m in (4, 32) and k in ("bn", "ln"):
                    samples += [dict(norm=k, m=m, draw=i, output=float(v)) for i, v in enumerate(stacked[:, 0])]
    return rows, samples


def bias_growth_study(g: torch.Generator, steps: int = 200) -> tuple[list[dict], float]:
    """G14: x = u + b centred by a mean computed outside the gradient; SGD on b."""
    u = torch.randn(64, 8, dtype=torch.float64, generator=g)
    target = torch.randn(64, 8, dtype=torch.float64, generator=g) + 1
    b = torch.zeros(8, dtype=torch.float64)
    rows = []
    for step in range(steps + 1):
        b.requires_grad_()
        x = u + b
        loss = 0.5 * ((x - x.detach().mean(0) - target) ** 2).mean()
        (grad,) = torch.autograd.grad(loss, b)
        rows.append(dict(step=step, bias_norm=float(b.detach().norm()), loss=float(loss.detach())))
        b = (b - 1.0 * grad).detach()
    b = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    x = u + b
    (grad,) = torch.autograd.grad(0.5 * ((x - x.mean(0) - target) ** 2).mean(), b)
    return rows, float(grad.norm())


def exact_unit(cfg: Config) -> dict[str, pd.DataFrame]:
    """Every exact study, each from its own fixed stream (no seed: nothing here is a replicate
    but G1's channels and G6's companion sets, drawn within one study)."""
    variance, checks = running_variance_study(cfg, stream(0, "running-variance"))
    identity_x = 3 + 2 * torch.randn(256, 32, dtype=torch.float64, generator=stream(0, "identity"))
    var_b, mean_b = identity_x.var(0, unbiased=False), identity_x.mean(0)
    moments = moment_study(stream(0, "output-moments"))
    scales, sgd, cos = scale_study(stream(0, "weight-scale"))
    companions, samples = companion_study(cfg, stream(0, "companions"))
    growth, graph_grad = bias_growth_study(stream(0, "bias-growth"))
    checks += [
        dict(check="G2", m=0, value=fold_study(stream(0, "fold"), torch.float64)),
        dict(check="G2b", m=0, value=fold_study(stream(0, "fold"), torch.float32)),
        dict(check="G3", m=0, value=identity_error(identity_x, var_b, mean_b)),
        dict(check="G3b", m=0, value=identity_error(identity_x, torch.sqrt(var_b + EPS), mean_b)),
        dict(check="G5c", m=0, value=cos),
        dict(check="G14c", m=0, value=graph_grad),
    ]
    return {"running_variance": pd.DataFrame(variance), "exact": pd.DataFrame(checks),
            "moments": pd.DataFrame(moments), "weight_scale": pd.DataFrame(scales), "scale_sgd": pd.DataFrame(sgd),
            "companions": pd.DataFrame(companions), "companion_samples": pd.DataFrame(samples),
            "bias_growth": pd.DataFrame(growth)}

