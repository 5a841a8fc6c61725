"""Every update rule against a step computed by hand, the forms against each other, and the
library's optimisers (torch.optim) where one exists."""

from __future__ import annotations

import math

import pytest
import torch

from dlclaims.methods import optim

F64 = torch.float64


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def grad(x: torch.Tensor) -> torch.Tensor:
    """f(x) = x² (a = 2 in f = a x²/2): ∇f(x) = 2x."""
    return 2 * x


def close(a, b, tol=1e-15) -> None:
    assert torch.allclose(torch.as_tensor(a, dtype=F64), torch.as_tensor(b, dtype=F64), rtol=0, atol=tol), (a, b)


# --- schedules -------------------------------------------------------------------------------

def test_convex_momentum_schedule():
    assert optim.convex_momentum(0) == 0.0
    assert optim.convex_momentum(1) == 0.0
    assert optim.convex_momentum(2) == pytest.approx(1 / 4)
    assert optim.convex_momentum(10) == pytest.approx(9 / 12)


def test_strongly_convex_momentum_and_polyak_parameters():
    assert optim.strongly_convex_momentum(25) == pytest.approx(4 / 6)
    lr, beta = optim.heavy_ball_quadratic_parameters(25.0, 1.0)
    assert lr == pytest.approx(4 / 36)  # Lessard et al.'s 1/9
    assert beta == pytest.approx(4 / 9)


# --- hand-computed single steps --------------------------------------------------------------

def test_gd_step_by_hand():
    close(optim.gd_step(t(1.0, -2.0), grad, 0.1), t(0.8, -1.6))


def test_heavy_ball_step_by_hand():
    # X^1 = 1 − 0.1·2 + 0.5·(1 − 0.5) = 1.05
    new = optim.heavy_ball_step(optim.Iterates(t(1.0), t(0.5)), grad, 0.1, 0.5)
    close(new.x, t(1.05))
    close(new.x_prev, t(1.0))


def test_nesterov_step_by_hand():
    # Y = 1 + 0.5·0.5 = 1.25; X^1 = 1.25 − 0.05·2.5 = 1.125
    new = optim.nesterov_step(optim.Iterates(t(1.0), t(0.5)), grad, 0.05, 0.5)
    close(new.x, t(1.125))
    close(new.x_prev, t(1.0))


def test_momentum_velocity_step_by_hand():
    # v' = 0.5·0.5 − 0.1·2 = 0.05; W' = 1.05 (the heavy-ball step above)
    new = optim.momentum_step(optim.Velocity(t(1.0), t(0.5)), grad, 0.1, 0.5)
    close(new.v, t(0.05))
    close(new.w, t(1.05))


def test_nesterov_velocity_step_by_hand():
    # v' = 0.25 − 0.05·2·1.25 = 0.125; W' = 1.125 (the look-ahead step above)
    new = optim.nesterov_velocity_step(optim.Velocity(t(1.0), t(0.5)), grad, 0.05, 0.5)
    close(new.v, t(0.125))
    close(new.w, t(1.125))


def test_nesterov_change_of_variables_step_by_hand():
    # W̃ = W + ρv = 1.25; v' = 0.25 − 0.05·2·1.25 = 0.125; W̃' = 1.25 + 0.125 + 0.5(0.125 − 0.5) = 1.1875
    new = optim.nesterov_change_of_variables_step(optim.Velocity(t(1.25), t(0.5)), grad, 0.05, 0.5)
    close(new.v, t(0.125))
    close(new.w, t(1.1875))  # = W' + ρ v' = 1.125 + 0.0625
    # with a schedule, ρ_{t+1} = 0.8: W̃' = W' + 0.8 v' = 1.125 + 0.1 = 1.225
    new = optim.nesterov_change_of_variables_step(optim.Velocity(t(1.25), t(0.5)), grad, 0.05, 0.5, 0.8)
    close(new.w, t(1.225))


def test_adagrad_step_by_hand():
    # g = [2, −4], S = [4, 16], √S = [2, 4]: W' = W − 0.1·[1, −1]
    new = optim.adagrad_step(optim.start_accumulator(t(1.0, -2.0)), grad, 0.1, eps=0.0)
    close(new.s, t(4.0, 16.0))
    close(new.x, t(0.9, -1.9))
    # ε outside the root (000): 2/(2 + 2) = 0.5;  inside (003): 2/√(4 + 5) = 2/3
    close(optim.adagrad_step(optim.start_accumulator(t(1.0)), grad, 0.1, eps=2.0).x, t(0.95))
    close(optim.adagrad_step(optim.start_accumulator(t(1.0)), grad, 0.3, eps=5.0, eps_inside=True).x, t(0.8))
    # accumulation: a second step adds the new squared gradient (1.8² = 3.24)
    second = optim.adagrad_step(new, grad, 0.1, eps=0.0)
    close(second.s, t(4 + 3.24, 16 + 3.8**2), tol=1e-14)
    close(second.x, t(0.9 - 0.1 * 1.8 / math.sqrt(7.24), -1.9 + 0.1 * 3.8 / math.sqrt(30.44)))


def test_rmsprop_step_by_hand():
    # ρ = 0.75: S = 0.25·4 = 1, W' = 1 − 0.1·2/1 = 0.8
    new = optim.rmsprop_step(optim.start_accumulator(t(1.0)), grad, 0.1, rho=0.75, eps=0.0)
    close(new.s, t(1.0))
    close(new.x, t(0.8))
    # second step: g = 1.6, S = 0.75 + 0.25·2.56 = 1.39
    second = optim.rmsprop_step(new, grad, 0.1, rho=0.75, eps=0.0)
    close(second.s, t(1.39))
    close(second.x, t(0.8 - 0.1 * 1.6 / math.sqrt(1.39)))
    close(optim.rmsprop_step(optim.start_accumulator(t(1.0)), grad, 0.1, rho=0.75, eps=1.0).x, t(0.9))
    close(optim.rmsprop_step(optim.start_accumulator(t(1.0)), grad, 0.1, rho=0.75, eps=3.0,
                             eps_inside=True).x, t(0.9))


def test_adam_step_by_hand():
    # bias-corrected first step is α·sign(g) (ε = 0)
    new = optim.adam_step(optim.start_moments(t(1.0, -2.0)), grad, 0.1, eps=0.0)
    close(new.x, t(0.9, -1.9))
    assert new.t == 1
    # two steps, ρ₁ = 0.5, ρ₂ = 0.75, W = 1: t=1 m = 1, s = 1, m̂ = 2, ŝ = 4, W = 0.9;
    # t=2 g = 1.8, m = 0.5 + 0.9 = 1.4, s = 0.75 + 0.81 = 1.56, m̂ = 1.4/0.75, ŝ = 1.56/0.4375
    state = optim.start_moments(t(1.0))
    state = optim.adam_step(state, grad, 0.1, rho1=0.5, rho2=0.75, eps=0.0)
    close(state.x, t(0.9))
    state = optim.adam_step(state, grad, 0.1, rho1=0.5, rho2=0.75, eps=0.0)
    close(state.m, t(1.4))
    close(state.s, t(1.56), tol=1e-14)
    close(state.x, t(0.9 - 0.1 * (1.4 / 0.75) / math.sqrt(1.56 / 0.4375)), tol=1e-14)


def test_adam_without_bias_correction_by_hand():
    # ρ₁ = 0.5, ρ₂ = 0.96: m = g/2, s = 0.04 g², √s = 0.2|g|: step = 2.5 α sign(g)
    new = optim.adam_step(optim.start_moments(t(1.0)), grad, 0.1, rho1=0.5, rho2=0.96, eps=0.0,
                          bias_correction=False)
    close(new.x, t(0.75), tol=1e-14)
    # ε placement: √s = 0.4, outside ε = 0.1: 0.5·2/0.5 = 2 → W' = 1 − 0.2
    new = optim.adam_step(optim.start_moments(t(1.0)), grad, 0.1, rho1=0.5, rho2=0.96, eps=0.1,
                          bias_correction=False)
    close(new.x, t(0.8), tol=1e-14)
    new = optim.adam_step(optim.start_moments(t(1.0)), grad, 0.1, rho1=0.5, rho2=0.96, eps=0.09,
                          bias_correction=False, eps_inside=True)
    close(new.x, t(0.8), tol=1e-14)  # √(0.16 + 0.09) = 0.5


# --- the forms agree with each other ---------------------------------------------------------

def random_quadratic(d: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=F64))
    h = q @ torch.diag(torch.linspace(0.1, 1.0, d, dtype=F64)) @ q.T
    return (lambda x: h @ x), torch.randn(d, generator=g, dtype=F64)


def test_heavy_ball_equals_momentum_velocity_form():
    f_grad, x0 = random_quadratic()
    a, b = optim.start(x0), optim.start_velocity(x0)
    for _ in range(50):
        a = optim.heavy_ball_step(a, f_grad, 0.7, 0.8)
        b = optim.momentum_step(b, f_grad, 0.7, 0.8)
    close(a.x, b.w, tol=1e-12)


def test_nesterov_forms_agree_with_a_schedule():
    f_grad, x0 = random_quadratic()
    a, b, c = optim.start(x0), optim.start_velocity(x0), optim.start_velocity(x0)
    for k in range(60):
        beta = optim.convex_momentum(k)
        a = optim.nesterov_step(a, f_grad, 1.0, beta)
        b = optim.nesterov_velocity_step(b, f_grad, 1.0, beta)
        c = optim.nesterov_change_of_variables_step(c, f_grad, 1.0, beta, optim.convex_momentum(k + 1))
    close(a.x, b.w, tol=1e-12)
    close(c.w, b.w + optim.convex_momentum(60) * b.v, tol=1e-12)


def test_batched_rows_use_their_own_step_size():
    x = torch.ones(3, 2, dtype=F64)
    lr = t(0.1, 0.2, 0.3)[:, None]
    close(optim.gd_step(x, grad, lr), 1 - 2 * lr.expand(3, 2))


# --- against torch.optim ---------------------------------------------------------------------

run_torch = optim.run_torch_optimizer


@pytest.mark.parametrize("rule, torch_class, kw, torch_kw", [
    ("momentum", torch.optim.SGD, dict(lr=0.3, rho=0.9), dict(lr=0.3, momentum=0.9)),
    ("adagrad", torch.optim.Adagrad, dict(lr=0.1, eps=1e-8), dict(lr=0.1, eps=1e-8)),
    ("rmsprop", torch.optim.RMSprop, dict(lr=0.01, rho=0.9, eps=1e-8), dict(lr=0.01, alpha=0.9, eps=1e-8)),
    ("adam", torch.optim.Adam, dict(lr=0.01, rho1=0.9, rho2=0.999, eps=1e-8),
     dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
])
def test_matches_torch_optim(rule, torch_class, kw, torch_kw):
    f_grad, x0 = random_quadratic(seed=1)
    steps = 40
    if rule == "momentum":
        s = optim.start_velocity(x0)
        for _ in range(steps):
            s = optim.momentum_step(s, f_grad, **kw)
        ours = s.w
    elif rule == "adam":
        s = optim.start_moments(x0)
        for _ in range(steps):
            s = optim.adam_step(s, f_grad, **kw)
        ours = s.x
    else:
        step = optim.adagrad_step if rule == "adagrad" else optim.rmsprop_step
        s = optim.start_accumulator(x0)
        for _ in range(steps):
            s = step(s, f_grad, **kw)
        ours = s.x
    close(ours, run_torch(torch_class, x0, f_grad, steps, **torch_kw), tol=1e-12)


def test_change_of_variables_matches_torch_nesterov():
    f_grad, x0 = random_quadratic(seed=2)
    s = optim.start_velocity(x0)
    for _ in range(100):
        s = optim.nesterov_change_of_variables_step(s, f_grad, 0.5, 0.9)
    theirs = run_torch(torch.optim.SGD, x0, f_grad, 100, lr=0.5, momentum=0.9, nesterov=True)
    close(s.w, theirs, tol=1e-12)


def test_a_wrong_rule_is_caught():
    """The comparison is sharp enough to see a sign slip in the change of variables."""
    f_grad, x0 = random_quadratic(seed=2)
    s = optim.start_velocity(x0)
    for _ in range(100):
        s = optim.nesterov_change_of_variables_step(s, f_grad, 0.5, 0.9, rho_next=0.0)
    theirs = run_torch(torch.optim.SGD, x0, f_grad, 100, lr=0.5, momentum=0.9, nesterov=True)
    assert (s.w - theirs).abs().max() > 1e-6


# --- hundreds of steps against torch.optim, and the adaptive-optimisers additions -------------

def logistic_problem(seed: int = 3, n: int = 200, d: int = 12, k: int = 4, scale: float = 1.0):
    """Multinomial logistic regression: a gradient that changes along the run (not a quadratic)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=F64)
    y = torch.nn.functional.one_hot(torch.randint(k, (n,), generator=g), k).to(F64)

    def f_grad(theta):
        return scale * x.T @ (torch.softmax(x @ theta, -1) - y) / n

    return f_grad, 0.1 * torch.randn(d, k, generator=g, dtype=F64)


@pytest.mark.parametrize("scale", [1.0, 1e-4])
@pytest.mark.parametrize("rule, torch_class, step, torch_kw", [
    ("adagrad", torch.optim.Adagrad, lambda s, g: optim.adagrad_step(s, g, 0.05), dict(lr=0.05, eps=1e-8)),
    ("rmsprop 0.9", torch.optim.RMSprop, lambda s, g: optim.rmsprop_step(s, g, 1e-4, rho=0.9),
     dict(lr=1e-4, alpha=0.9, eps=1e-8)),
    ("rmsprop 0.99", torch.optim.RMSprop, lambda s, g: optim.rmsprop_step(s, g, 1e-4, rho=0.99),
     dict(lr=1e-4, alpha=0.99, eps=1e-8)),
    ("adam", torch.optim.Adam, lambda s, g: optim.adam_step(s, g, 0.01), dict(lr=0.01)),
    ("adam 0.5/0.9999", torch.optim.Adam, lambda s, g: optim.adam_step(s, g, 1e-3, 0.5, 0.9999),
     dict(lr=1e-3, betas=(0.5, 0.9999))),
    ("adamw", torch.optim.AdamW, lambda s, g: optim.adamw_step(s, g, 0.01, 0.1), dict(lr=0.01, weight_decay=0.1)),
    ("momentum", torch.optim.SGD, lambda s, g: optim.momentum_step(s, g, 0.1, 0.9), dict(lr=0.1, momentum=0.9)),
])
def test_matches_torch_optim_over_500_steps(rule, torch_class, step, torch_kw, scale):
    """Learning rates small enough that the run stays out of the oscillating regime near the
    optimum, where constant-rate RMSProp/Adam are chaotic and amplify a one-ulp difference in
    the order of operations (seen at lr = 3e-3: 0.35 apart after 500 steps)."""
    f_grad, x0 = logistic_problem(scale=scale)
    start = optim.start_velocity if rule == "momentum" else (
        optim.start_accumulator if rule.startswith(("adagrad", "rmsprop")) else optim.start_moments)
    s = start(x0)
    for _ in range(500):
        s = step(s, f_grad)
    theirs = run_torch(torch_class, x0, f_grad, 500, **torch_kw)
    assert (s[0] - theirs).abs().max() <= 1e-6 * max(1.0, float((theirs - x0).abs().max()))
    assert (s[0] - theirs).abs().max() < 1e-10  # in fact equal to rounding


def test_eps_inside_the_root_is_not_torch_rmsprop_at_small_gradients():
    """003's / 000's second form √(S + ε) departs from torch's √S + ε once |g| ≲ √ε = 1e-4."""
    f_grad, x0 = logistic_problem(scale=1e-6)
    s = optim.start_accumulator(x0)
    for _ in range(200):
        s = optim.rmsprop_step(s, f_grad, 0.003, rho=0.9, eps_inside=True)
    theirs = run_torch(torch.optim.RMSprop, x0, f_grad, 200, lr=0.003, alpha=0.9, eps=1e-8)
    assert (s.x - theirs).abs().max() > 1e-3


def test_bias_correction_ratio_closed_form():
    assert optim.bias_correction_ratio(1) == pytest.approx(0.1 / math.sqrt(0.001))  # 3.162
    ts = torch.arange(1, 2001, dtype=F64)
    r = optim.bias_correction_ratio(ts)
    assert int(r.argmax()) + 1 == 12 and float(r.max()) == pytest.approx(6.57, abs=0.005)
    assert float(r[999]) == pytest.approx(1.26, abs=0.005)
    # and the measured steps of adam_step give it, to rounding, for 1000 steps
    grad = lambda x: torch.ones_like(x)
    a = c = optim.start_moments(torch.zeros(1, dtype=F64))
    for t in range(1, 1001):
        a2 = optim.adam_step(a, grad, 1.0, eps=0.0, bias_correction=False)
        c2 = optim.adam_step(c, grad, 1.0, eps=0.0)
        assert float((a2.x - a.x) / (c2.x - c.x)) == pytest.approx(optim.bias_correction_ratio(t), rel=1e-12)
        a, c = a2, c2


def test_printed_variants_by_hand():
    # 002's RMSProp: ρ = 0.75, g = 2: G = 1, step = η·G/√G = η: W' = 1 − 0.1
    new = optim.rmsprop_numerator_g_step(optim.start_accumulator(t(1.0)), grad, 0.1, rho=0.75, eps=0.0)
    close(new.x, t(0.9))
    # and it keeps going the same way past the minimum at 0
    s = optim.start_accumulator(t(1.0))
    for _ in range(100):
        s = optim.rmsprop_numerator_g_step(s, grad, 0.1, rho=0.75, eps=0.0)
    assert float(s.x) < -1
    # 000's momentum with α twice: v' = 0.5·0.5 + 0.1·2 = 0.45, W' = 1 − 0.1·0.45
    new = optim.momentum_doubled_lr_step(optim.Velocity(t(1.0), t(0.5)), grad, 0.1, 0.5)
    close(new.v, t(0.45))
    close(new.w, t(0.955))
    # written-back Adam on a constant gradient: step/α = 1, then 0.235...
    s = optim.start_moments(t(0.0))
    steps = []
    for _ in range(3):
        old = s.x
        s = optim.adam_written_back_step(s, lambda x: torch.ones_like(x), 1.0, eps=0.0)
        steps.append(float(old - s.x))
    assert steps[0] == pytest.approx(1.0)
    m2, v2 = (0.9 * 1 + 0.1) / (1 - 0.81), (0.999 * 1 + 0.001) / (1 - 0.999**2)
    assert steps[1] == pytest.approx(m2 / math.sqrt(v2))
    assert steps[1] == pytest.approx(0.2353, abs=1e-4)


def test_adamw_step_by_hand():
    # decay first: W = 1·(1 − 0.1·0.5) = 0.95, then the first Adam step is α·sign(g at the old W)
    new = optim.adamw_step(optim.start_moments(t(1.0)), grad, 0.1, 0.5, eps=0.0)
    close(new.x, t(0.85))


def test_effective_lr_and_state_elements():
    close(optim.effective_lr(t(4.0), 0.1, eps=0.0), t(0.05))
    close(optim.effective_lr(t(4.0), 0.1, eps=5.0, eps_inside=True), t(0.1 / 3))
    p = torch.nn.Parameter(torch.zeros(5))
    opt = torch.optim.Adam([p])
    p.grad = torch.ones(5)
    opt.step()
    assert optim.state_elements(opt) == 10
