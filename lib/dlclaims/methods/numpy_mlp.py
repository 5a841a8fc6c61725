"""Normalisation layers in numpy with hand-written backward passes, for fast small-MLP training.

A step of a 64-128-128-128-10 MLP through torch's autograd costs about 1.5 ms on the shared
2-core machine (per-op overhead, not arithmetic); the same step here costs a few times
less, which is what makes a batch-size sweep down to batch 2 fit the run-time budget.
Every piece is tested against torch (``tests/test_normalisation.py``): the forward passes
against ``nn.BatchNorm1d`` / ``nn.GroupNorm`` / ``nn.LayerNorm`` (running statistics
included), the gradients against autograd, in float64.

- :func:`norm_forward`, :func:`norm_backward`: batch norm (over the batch, per feature),
  layer norm (over the features, per sample) and group norm (over each group of features,
  per sample), with or without the affine γ, β;
- :class:`MLP`: Linear → [norm] → activation (or activation → norm) → [dropout] blocks and a
  linear head, softmax cross-entropy, its loss and gradient;
- :func:`sgd_epochs`: SGD with torch's momentum convention over shuffled mini-batches.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-5
MOMENTUM = 0.1  # torch's BatchNorm1d default for the running statistics
KINDS = ("bn", "gn", "ln", "none")


# --- normalisation ----------------------------------------------------------------------------

@dataclass
class Norm:
    """One normalisation layer's parameters and (batch norm) running statistics."""

    kind: str
    features: int
    groups: int = 1
    affine: bool = True
    eps: float = EPS
    dtype: type = np.float32
    gamma: np.ndarray = field(init=False)
    beta: np.ndarray = field(init=False)
    running_mean: np.ndarray = field(init=False)
    running_var: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown normalisation '{self.kind}'; choose from {', '.join(KINDS)}")
        if self.kind == "gn" and self.features % self.groups:
            raise ValueError(f"{self.features} features do not split into {self.groups} groups")
        self.gamma = np.ones(self.features, self.dtype)
        self.beta = np.zeros(self.features, self.dtype)
        self.running_mean = np.zeros(self.features, self.dtype)
        self.running_var = np.ones(self.features, self.dtype)


def _view(x: np.ndarray, norm: Norm) -> tuple[np.ndarray, int]:
    """x as the array whose ``axis`` is the one statistics are taken over."""
    if norm.kind == "bn":
        return x, 0
    if norm.kind == "ln":
        return x, 1
    return x.reshape(x.shape[0], norm.groups, -1), 2  # gn


def norm_forward(x: np.ndarray, norm: Norm, train: bool = True, update: bool = True):
    """(output, cache). Batch norm in train mode uses the batch's statistics and, if
    ``update``, moves the running ones as torch does (EMA, momentum 0.1, unbiased variance);
    in eval mode it uses the running ones. Layer and group norm are the same in both modes."""
    if norm.kind == "none":
        return x, None
    if norm.kind == "bn" and not train:
        inv = 1.0 / np.sqrt(norm.running_var + norm.eps)
        xhat = (x - norm.running_mean) * inv
        cache = ("eval", inv, xhat)
    else:
        v, axis = _view(x, norm)
        mean = v.mean(axis, keepdims=True)
        centred = v - mean
        var = (centred * centred).mean(axis, keepdims=True)
        inv = 1.0 / np.sqrt(var + norm.eps)
        xhat_v = centred * inv
        if norm.kind == "bn" and update:
            n = x.shape[0]
            norm.running_mean = ((1 - MOMENTUM) * norm.running_mean + MOMENTUM * mean[0]).astype(norm.dtype)
            norm.running_var = ((1 - MOMENTUM) * norm.running_var
                                + MOMENTUM * var[0] * n / max(n - 1, 1)).astype(norm.dtype)
        xhat = xhat_v.reshape(x.shape)
        cache = ("train", inv, xhat_v, axis)
    y = xhat * norm.gamma + norm.beta if norm.affine else xhat
    return y, cache


def norm_backward(dy: np.ndarray, norm: Norm, cache):
    """(dx, dgamma, dbeta) of :func:`norm_forward`."""
    if norm.kind == "none":
        return dy, None, None
    if cache[0] == "eval":
        _, inv, xhat = cache
        dxhat = dy * norm.gamma if norm.affine else dy
        dx = dxhat * inv
    else:
        _, inv, xhat_v, axis = cache
        xhat = xhat_v.reshape(dy.shape)
        dxhat = dy * norm.gamma if norm.affine else dy
        d = dxhat.reshape(xhat_v.shape)
        dx = (inv * (d - d.mean(axis, keepdims=True)
                     - xhat_v * (d * xhat_v).mean(axis, keepdims=True))).reshape(dy.shape)
    if not norm.affine:
        return dx, None, None
    return dx, (dy * xhat).sum(0), dy.sum(0)


# --- activations ------------------------------------------------------------------------------

def activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "identity":
        return z
    raise ValueError(f"unknown activation '{activation}'")


def activation_grad(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    """σ'(z), given z and a = σ(z)."""
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "sigmoid":
        return a * (1 - a)
    return np.ones_like(z)


# --- the MLP ----------------------------------------------------------------------------------

@dataclass
class MLP:
    """Linear → norm → activation blocks (``placement="after"``: Linear → activation → norm),
    inverted dropout on each block's output, a linear head; weights are (in, out)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    norms: list[Norm]
    activation: str = "relu"
    placement: str = "before"
    dropout: float = 0.0

    @classmethod
    def init(cls, sizes, rng: np.random.Generator, norm: str = "none", groups: int = 8, affine: bool = True,
             activation: str = "relu", placement: str = "before", dropout: float = 0.0, scale: float = 1.0,
             dtype=np.float32) -> "MLP":
        """He-uniform hidden weights U(±√(6/fan_in)) times ``scale``, a head U(±1/√fan_in), zero
        biases. The uniform draws come from ``rng`` in a fixed order, so every variant made from
        the same seed starts from the same draws (common random numbers)."""
        weights, biases = [], []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            u = rng.uniform(-1, 1, size=(n_in, n_out))
            bound = 1 / np.sqrt(n_in) if i == len(sizes) - 2 else scale * np.sqrt(6 / n_in)
            weights.append((u * bound).astype(dtype))
            biases.append(np.zeros(n_out, dtype))
        norms = [Norm(norm, n, groups=groups, affine=affine, dtype=dtype) for n in sizes[1:-1]]
        return cls(weights, biases, norms, activation, placement, dropout)

    def copy(self) -> "MLP":
        return copy.deepcopy(self)

    # parameters in a fixed order: weights, biases, then each affine norm's γ and β
    def parameters(self) -> list[np.ndarray]:
        ps = self.weights + self.biases
        for n in self.norms:
            if n.kind != "none" and n.affine:
                ps += [n.gamma, n.beta]
        return ps

    def set_parameters(self, ps: list[np.ndarray]) -> None:
        k = len(self.weights)
        self.weights, self.biases = list(ps[:k]), list(ps[k:2 * k])
        rest = iter(ps[2 * k:])
        for n in self.norms:
            if n.kind != "none" and n.affine:
                n.gamma, n.beta = next(rest), next(rest)

    def forward(self, x: np.ndarray, train: bool = True, update: bool = True,
                rng: np.random.Generator | None = None):
        """(logits, caches); the caches hold each block's norm input and the activation's
        input too (for the variance-shift and linear-regime measurements)."""
        caches = []
        h = x
        for w, b, norm in zip(self.weights[:-1], self.biases[:-1], self.norms):
            z = h @ w + b
            if self.placement == "before":
                u, nc = norm_forward(z, norm, train, update)
                a = activate(u, self.activation)
                c = dict(h=h, z=z, u=u, a=a, nc=nc, norm_in=z)
            else:
                a0 = activate(z, self.activation)
                a, nc = norm_forward(a0, norm, train, update)
                c = dict(h=h, z=z, u=z, a0=a0, nc=nc, norm_in=a0)
            if train and self.dropout > 0:
                mask = (rng.random(a.shape) >= self.dropout).astype(a.dtype) / (1 - self.dropout)
                a = a * mask
                c["mask"] = mask
            caches.append(c)
            h = a
        caches.append(dict(h=h))
        return h @ self.weights[-1] + self.biases[-1], caches

    def backward(self, dlogits: np.ndarray, caches) -> list[np.ndarray]:
        """Gradients in :meth:`parameters` order."""
        k = len(self.weights)
        dw, db = [None] * k, [None] * k
        dgam, dbet = [None] * (k - 1), [None] * (k - 1)
        dw[-1], db[-1] = caches[-1]["h"].T @ dlogits, dlogits.sum(0)
        dh = dlogits @ self.weights[-1].T
        for i in reversed(range(k - 1)):
            c, norm = caches[i], self.norms[i]
            if "mask" in c:
                dh = dh * c["mask"]
            if self.placement == "before":
                du = dh * activation_grad(c["u"], c["a"], self.activation)
                dz, dgam[i], dbet[i] = norm_backward(du, norm, c["nc"])
            else:
                da0, dgam[i], dbet[i] = norm_backward(dh, norm, c["nc"])
                dz = da0 * activation_grad(c["z"], c["a0"], self.activation)
            dw[i], db[i] = c["h"].T @ dz, dz.sum(0)
            dh = dz @ self.weights[i].T
        grads = dw + db
        for i, n in enumerate(self.norms):
            if n.kind != "none" and n.affine:
                grads += [dgam[i], dbet[i]]
        return grads

    def loss_and_grads(self, x, y, train: bool = True, update: bool = True, rng=None):
        logits, caches = self.forward(x, train, update, rng)
        loss, dlogits = cross_entropy(logits, y)
        return loss, self.backward(dlogits, caches)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, train=False)[0].argmax(1)


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient with respect to the logits."""
    shifted = logits - logits.max(1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(1, keepdims=True)
    n = len(y)
    loss = float(-np.log(p[np.arange(n), y] + 1e-30).mean())
    p[np.arange(n), y] -= 1
    return loss, p / n


def accuracy(net: MLP, x: np.ndarray, y: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float((net.predict(x) == y).mean())


def train_mode_accuracy(net: MLP, x: np.ndarray, y: np.ndarray, batch: int, rng: np.random.Generator) -> float:
    """Accuracy with batch statistics of random test batches of ``batch`` (running ones untouched)."""
    order = rng.permutation(len(y))
    n = len(y) // batch * batch
    correct = 0
    with np.errstate(all="ignore"):
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            logits, _ = net.forward(x[idx], train=True, update=False)
            correct += int((logits.argmax(1) == y[idx]).sum())
    return correct / n


def sgd_epochs(net: MLP, x: np.ndarray, y: np.ndarray, batch: int, lr: float, epochs: int,
               rng: np.random.Generator, momentum: float = 0.9) -> bool:
    """SGD in torch's convention (v ← μv + g, p ← p − lr·v) over shuffled mini-batches, the
    last partial batch dropped (batch norm needs two samples). Returns False if it diverged
    (a non-finite loss), leaving the network as it was at that step."""
    params = net.parameters()
    velocity = [np.zeros_like(p) for p in params]
    n = len(y) // batch * batch
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            order = rng.permutation(len(y))
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                loss, grads = net.loss_and_grads(x[idx], y[idx], rng=rng)
                if not np.isfinite(loss):
                    return False
                for p, v, g in zip(params, velocity, grads):
                    v *= momentum
                    v += g
                    p -= lr * v
    return True
