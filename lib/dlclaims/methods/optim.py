"""Update rules as small pure step functions: state in, state out (in the spirit of optax).

Every rule is written exactly as a lecture writes it (the formula is in its docstring) and
takes the gradient as a function ``grad(x) -> tensor`` because Nesterov's rule evaluates it
away from the current iterate. Nothing is modified in place, so a step can be re-run, and
hyperparameters may be Python numbers or tensors broadcasting against the iterate (one row
per replicate: a batch of chains with per-row step sizes runs as one tensor program).

Lecture notation. ``003`` (Tsinghua) writes heavy ball and Nesterov in the iterate form
``X^{k+1} = X^k - η∇f(·) + β(X^k - X^{k-1})``; ``000`` (JHU) writes them with a velocity
``v`` and momentum ``ρ`` and gives Nesterov's change of variables ``W̃_t = W_t + ρ v_t``.
The forms are the same methods (tested in ``tests/test_optim.py``).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch

Tensor = torch.Tensor
GradFn = Callable[[Tensor], Tensor]
Scalar = float | Tensor


# --- momentum schedules --------------------------------------------------------------------

def convex_momentum(t: int) -> float:
    """β_t = (t − 1)/(t + 2): Nesterov's schedule for smooth convex f (Su, Boyd & Candès form).

    ``t`` is the index of the current iterate X^t (t = 0, 1, ...); at t = 0 the previous
    step X^0 − X^{-1} is zero, so the (negative) value there never matters; we return 0.
    With η = 1/L it gives f(X^T) − f* ≤ 2 L ‖X^0 − X*‖² / (T + 1)².
    """
    return max(0.0, (t - 1) / (t + 2))


def strongly_convex_momentum(kappa: float) -> float:
    """β = (√κ − 1)/(√κ + 1): Nesterov's constant for L-smooth, μ-strongly convex f, κ = L/μ."""
    r = math.sqrt(kappa)
    return (r - 1) / (r + 1)


def heavy_ball_quadratic_parameters(L: float, mu: float) -> tuple[float, float]:
    """Polyak's optimal heavy-ball parameters for quadratics with spectrum in [μ, L].

    η = 4/(√L + √μ)², β = ((√κ − 1)/(√κ + 1))²; the rate on quadratics is (√κ − 1)/(√κ + 1).
    """
    return 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, strongly_convex_momentum(L / mu) ** 2


# --- gradient descent and momentum ---------------------------------------------------------

def gd_step(x: Tensor, grad: GradFn, lr: Scalar) -> Tensor:
    """Gradient descent: X^{k+1} = X^k − η ∇f(X^k)  (003; 000's W_{t+1} = W_t − α∇L(W_t))."""
    return x - lr * grad(x)


class Iterates(NamedTuple):
    """The current and the previous iterate (X^k, X^{k-1}); start with x_prev = x."""

    x: Tensor
    x_prev: Tensor


def start(x0: Tensor) -> Iterates:
    return Iterates(x0, x0)


def heavy_ball_step(state: Iterates, grad: GradFn, lr: Scalar, beta: Scalar) -> Iterates:
    """Polyak's heavy ball (003): X^{k+1} = X^k − η ∇f(X^k) + β (X^k − X^{k−1})."""
    x, x_prev = state
    return Iterates(x - lr * grad(x) + beta * (x - x_prev), x)


def nesterov_step(state: Iterates, grad: GradFn, lr: Scalar, beta: Scalar) -> Iterates:
    """Nesterov, look-ahead form (003): X^{k+1} = X^k − η ∇f(X^k + β(X^k − X^{k−1})) + β(X^k − X^{k−1}).

    The gradient is taken at the look-ahead point Y^k = X^k + β(X^k − X^{k−1}), then
    X^{k+1} = Y^k − η ∇f(Y^k).
    """
    x, x_prev = state
    y = x + beta * (x - x_prev)
    return Iterates(y - lr * grad(y), x)


class Velocity(NamedTuple):
    """A point and its velocity (W_t, v_t) as lecture 000 writes them; start with v = 0."""

    w: Tensor
    v: Tensor


def start_velocity(w0: Tensor) -> Velocity:
    return Velocity(w0, torch.zeros_like(w0))


def momentum_step(state: Velocity, grad: GradFn, lr: Scalar, rho: Scalar) -> Velocity:
    """SGD + momentum (000): v_{t+1} = ρ v_t − α ∇L(W_t);  W_{t+1} = W_t + v_{t+1}.

    Heavy ball with v_t = W_t − W_{t−1}, η = α, β = ρ.
    """
    w, v = state
    v_next = rho * v - lr * grad(w)
    return Velocity(w + v_next, v_next)


def nesterov_velocity_step(state: Velocity, grad: GradFn, lr: Scalar, rho: Scalar) -> Velocity:
    """Nesterov momentum, look-ahead form (000): v_{t+1} = ρ v_t − α ∇L(W_t + ρ v_t);  W_{t+1} = W_t + v_{t+1}."""
    w, v = state
    v_next = rho * v - lr * grad(w + rho * v)
    return Velocity(w + v_next, v_next)


def nesterov_change_of_variables_step(
    state: Velocity, grad: GradFn, lr: Scalar, rho: Scalar, rho_next: Scalar | None = None
) -> Velocity:
    """Nesterov in the lecture's change of variables W̃_t = W_t + ρ v_t (000).

    v_{t+1} = ρ v_t − α ∇L(W̃_t);   W̃_{t+1} = W̃_t + v_{t+1} + ρ (v_{t+1} − v_t).

    The state is (W̃_t, v_t): the gradient is now taken where the iterate is. The slide
    prints "+ α∇L" in the velocity line; with W̃_{t+1} built from +v_{t+1} that would ascend,
    so the sign here is the one of the look-ahead form it is derived from. For a schedule
    ρ_t (e.g. :func:`convex_momentum`) the same derivation gives
    W̃_{t+1} = W̃_t − ρ_t v_t + (1 + ρ_{t+1}) v_{t+1}; pass ``rho_next`` = ρ_{t+1}
    (default ρ_t, the lecture's constant-ρ formula).

    This is what ``torch.optim.SGD(lr=γ, momentum=μ, nesterov=True)`` computes, with α = γ,
    ρ = μ, v = −γ·(torch's momentum buffer) and torch's parameter = W̃ (the look-ahead point,
    not W); tested to agree to 1e-12 in float64.
    """
    w_tilde, v = state
    v_next = rho * v - lr * grad(w_tilde)
    if rho_next is None:
        return Velocity(w_tilde + v_next + rho * (v_next - v), v_next)
    return Velocity(w_tilde + v_next + (rho_next * v_next - rho * v), v_next)


# --- adaptive per-parameter rules ----------------------------------------------------------

def _scale(s: Tensor, eps: float, eps_inside: bool) -> Tensor:
    """√S + ε (000's AdaGrad, Adam, torch) or √(S + ε) (003's AdaGrad and RMSProp)."""
    return torch.sqrt(s + eps) if eps_inside else torch.sqrt(s) + eps


class Accumulator(NamedTuple):
    """An iterate and its per-parameter accumulated squared gradient S (start S = 0)."""

    x: Tensor
    s: Tensor


def start_accumulator(x0: Tensor) -> Accumulator:
    return Accumulator(x0, torch.zeros_like(x0))


def adagrad_step(state: Accumulator, grad: GradFn, lr: Scalar, eps: float = 1e-8,
                 eps_inside: bool = False) -> Accumulator:
    """AdaGrad (000; 003, Duchi et al. 2011).

    g_t = ∇L(W_t);  S_i ← S_i + (g_t)_i²;  W_{t+1} = W_t − α/(√S_i + ε) (g_t)_i
    (003 writes α/√(S_i + ε): ``eps_inside=True``).
    """
    x, s = state
    g = grad(x)
    s = s + g * g
    return Accumulator(x - lr * g / _scale(s, eps, eps_inside), s)


def rmsprop_step(state: Accumulator, grad: GradFn, lr: Scalar, rho: float = 0.9, eps: float = 1e-8,
                 eps_inside: bool = False) -> Accumulator:
    """RMSProp (000; 003, Hinton 2012).

    S_i ← ρ S_i + (1 − ρ)(g_t)_i²;  W_{t+1} = W_t − α/(√S_i + ε) (g_t)_i
    (000's second slide and 003 write α/√(S_i + ε): ``eps_inside=True``).
    """
    x, s = state
    g = grad(x)
    s = rho * s + (1 - rho) * g * g
    return Accumulator(x - lr * g / _scale(s, eps, eps_inside), s)


class Moments(NamedTuple):
    """Adam's state: iterate, first and second moments (start at 0), and the step count t."""

    x: Tensor
    m: Tensor
    s: Tensor
    t: int


def start_moments(x0: Tensor) -> Moments:
    return Moments(x0, torch.zeros_like(x0), torch.zeros_like(x0), 0)


def adam_step(state: Moments, grad: GradFn, lr: Scalar = 1e-3, rho1: float = 0.9, rho2: float = 0.999,
              eps: float = 1e-8, bias_correction: bool = True, eps_inside: bool = False) -> Moments:
    """Adam (000; 003, Kingma & Ba 2014).

    S⁽¹⁾ ← ρ₁ S⁽¹⁾ + (1 − ρ₁) g_t;   S⁽²⁾ ← ρ₂ S⁽²⁾ + (1 − ρ₂) g_t²;
    with bias correction (t = 1, 2, ...) Ŝ⁽¹⁾ = S⁽¹⁾/(1 − ρ₁ᵗ), Ŝ⁽²⁾ = S⁽²⁾/(1 − ρ₂ᵗ), else Ŝ = S;
    W_{t+1} = W_t − α Ŝ⁽¹⁾ / (√Ŝ⁽²⁾ + ε).

    The corrected moments only enter the step; the running moments stay uncorrected, as 003
    writes it (M̂ᵏ = Mᵏ/(1 − δᵏ)). 000's slide multiplies the running moment itself by
    (1 − ρᵗ)⁻¹, which read literally would compound the correction every step.
    ``bias_correction=False`` is 000's first Adam slide ("Q: What happens at t=0?").
    """
    x, m, s, t = state
    t = t + 1
    g = grad(x)
    m = rho1 * m + (1 - rho1) * g
    s = rho2 * s + (1 - rho2) * g * g
    m_hat, s_hat = (m / (1 - rho1**t), s / (1 - rho2**t)) if bias_correction else (m, s)
    return Moments(x - lr * m_hat / _scale(s_hat, eps, eps_inside), m, s, t)


# --- the lectures' printed variants, read literally (adaptive-optimisers, F9) ---------------

def rmsprop_numerator_g_step(state: Accumulator, grad: GradFn, lr: Scalar, rho: float = 0.9,
                             eps: float = 1e-8) -> Accumulator:
    """002's RMSProp as printed: G ← ρG + (1 − ρ)g²;  w ← w − η/√(G + ε) · G.

    The numerator is the running mean of squared gradients G, not the gradient: the step is
    ≈ η√G ≥ 0 in every coordinate, so it never changes sign (a misprint of η g/√(G + ε)).
    """
    x, s = state
    g = grad(x)
    s = rho * s + (1 - rho) * g * g
    return Accumulator(x - lr * s / torch.sqrt(s + eps), s)


def momentum_doubled_lr_step(state: Velocity, grad: GradFn, lr: Scalar, rho: Scalar) -> Velocity:
    """000's momentum slide as printed: v_{t+1} = ρ v_t + α∇L(W_t);  W_{t+1} = W_t − α v_{t+1}.

    α appears twice: this is :func:`momentum_step` with step size α² (and v scaled by 1/α).
    """
    w, v = state
    v_next = rho * v + lr * grad(w)
    return Velocity(w - lr * v_next, v_next)


def adam_written_back_step(state: Moments, grad: GradFn, lr: Scalar = 1e-3, rho1: float = 0.9,
                           rho2: float = 0.999, eps: float = 1e-8) -> Moments:
    """000's and 002's bias-corrected Adam read literally: the corrected moment is the state.

    S⁽¹⁾ ← (ρ₁ S⁽¹⁾ + (1 − ρ₁) g)/(1 − ρ₁ᵗ),  S⁽²⁾ ← (ρ₂ S⁽²⁾ + (1 − ρ₂) g²)/(1 − ρ₂ᵗ);
    W ← W − α S⁽¹⁾/(√S⁽²⁾ + ε). The correction compounds: on a constant gradient the
    step/α is 1, 0.24, 0.044, ... and S⁽²⁾ grows without bound, so the iterate stalls.
    """
    x, m, s, t = state
    t = t + 1
    g = grad(x)
    m = (rho1 * m + (1 - rho1) * g) / (1 - rho1**t)
    s = (rho2 * s + (1 - rho2) * g * g) / (1 - rho2**t)
    return Moments(x - lr * m / (torch.sqrt(s) + eps), m, s, t)


def adamw_step(state: Moments, grad: GradFn, lr: Scalar = 1e-3, weight_decay: Scalar = 1e-2,
               rho1: float = 0.9, rho2: float = 0.999, eps: float = 1e-8) -> Moments:
    """AdamW (Loshchilov & Hutter 2019) as ``torch.optim.AdamW`` computes it:
    W ← W (1 − α λ), then the Adam step (:func:`adam_step`) with the gradient at the old W."""
    x, m, s, t = state
    g = grad(x)
    moved = adam_step(Moments(x * (1 - lr * weight_decay), m, s, t), lambda _: g, lr, rho1, rho2, eps)
    return moved


def effective_lr(s: Tensor, lr: Scalar, eps: float = 1e-8, eps_inside: bool = False) -> Tensor:
    """The per-parameter step size α/(√S + ε) of AdaGrad and RMSProp (the lectures' "learning rate")."""
    return lr / _scale(s, eps, eps_inside)


def bias_correction_ratio(t, rho1: float = 0.9, rho2: float = 0.999):
    """Adam's uncorrected/corrected step on a constant gradient (ε → 0): (1 − ρ₁ᵗ)/√(1 − ρ₂ᵗ)."""
    return (1 - rho1**t) / (1 - rho2**t) ** 0.5


def state_elements(optimizer: torch.optim.Optimizer) -> int:
    """Number of tensor elements an optimizer keeps per step (its state), scalars such as t excluded."""
    return sum(v.numel() for state in optimizer.state.values() for v in state.values()
               if torch.is_tensor(v) and v.dim() > 0)


def run_torch_optimizer(opt_class, x0: Tensor, grad: GradFn, steps: int, **kw) -> Tensor:
    """``steps`` steps of a ``torch.optim`` optimizer on one tensor, fed ``grad(x)`` as its gradient
    (the reference the pure step functions are compared with)."""
    p = torch.nn.Parameter(x0.clone())
    opt = opt_class([p], **kw)
    for _ in range(steps):
        opt.zero_grad()
        p.grad = grad(p.detach())
        opt.step()
    return p.detach()
