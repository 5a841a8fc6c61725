"""Speed of the vectorised SGD chains (make bench)."""

import time

import numpy as np
import pytest
import torch

from dlclaims.methods import chains


@pytest.fixture(scope="module")
def problem():
    return chains.least_squares("iso", 10_000, 20, np.ones(20), noise=1.0, seed=0)


@pytest.mark.bench
def test_256_chains_by_1e4_steps(benchmark, problem):
    schedule = chains.Schedule.constant(0.01)
    benchmark.pedantic(chains.run_chains, args=(problem, torch.zeros(20), schedule, np.arange(256), 10_000),
                       rounds=3, iterations=1)
    assert benchmark.stats["min"] <= 2.0


@pytest.mark.bench
def test_vectorised_against_a_loop_over_chains(benchmark, problem):
    """Same 256 chains × 300 steps, batched and one at a time, in one run."""
    schedule, steps, seeds = chains.Schedule.constant(0.01), 300, np.arange(256)

    def loop():
        for s in seeds:
            chains.run_chains(problem, torch.zeros(20), schedule, [s], steps)

    started = time.perf_counter()
    loop()
    looped = time.perf_counter() - started
    benchmark.pedantic(chains.run_chains, args=(problem, torch.zeros(20), schedule, seeds, steps), rounds=5,
                       iterations=1)
    ratio = looped / benchmark.stats["min"]
    benchmark.extra_info["loop_seconds"] = looped
    benchmark.extra_info["speedup"] = ratio
    print(f"\nloop over chains {looped:.2f} s, vectorised {benchmark.stats['min']:.3f} s, speed-up {ratio:.0f}x")
    assert ratio >= 20


@pytest.mark.bench
def test_logistic_loss_against_the_softplus_form(benchmark):
    """The chains' logistic excess (logaddexp, the linear part as one product) against the plain
    softplus(z) − t z form, 512 chains on n = 10⁴ rows, in one run: the loss evaluations dominate
    sgd-uncertainty's logistic units."""
    p = chains.logistic("lg", 10_000, 20, weight_norm=2.0, l2=0.01, seed=3)
    X = p.x_star + 0.1 * torch.randn(512, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def softplus_form():
        out = []
        for part in X.split(128):
            Z = part @ p.A.T
            out.append((torch.nn.functional.softplus(Z) - p.y * Z).mean(1) + 0.5 * p.l2 * (part * part).sum(1))
        return torch.cat(out)

    torch.testing.assert_close(chains.loss(p, X), softplus_form(), rtol=1e-12, atol=1e-14)
    started = time.perf_counter()
    for _ in range(3):
        softplus_form()
    plain = (time.perf_counter() - started) / 3
    benchmark.pedantic(chains.loss, args=(p, X), rounds=3, iterations=1)
    ratio = plain / benchmark.stats["min"]
    benchmark.extra_info["speedup"] = ratio
    print(f"\nsoftplus form {plain:.3f} s, chains.loss {benchmark.stats['min']:.3f} s, speed-up {ratio:.2f}x")
    assert ratio >= 1.0
