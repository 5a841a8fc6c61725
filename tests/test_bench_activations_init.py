"""H4 of activations-init, the cost of exp() (001: "exp() is a bit compute expensive"; ReLU "very
computationally efficient"), measured on this machine (make bench).

Not a claim row: a timing depends on the machine, its load, its thread count and its vector units,
and differs run to run, while every table of a run must be byte-identical across workers and
executors. So it is measured here, with pytest-benchmark's repetitions on one thread after a
warm-up, and reported as machine-dependent. The catalogue's workloads: elementwise on 2¹⁸ float32
values (1 MB: in cache, large enough that dispatch overhead is small; H4a) and a 4×512 MLP forward +
backward at batch 64, the family's training batch (H4b). The printed ratio is sigmoid / ReLU of the
medians; the catalogue's rule would call exp() costly at ≥ 1.2. Only meaningful on a quiet machine.
"""

import statistics
import time

import pytest
import torch

pytestmark = [pytest.mark.bench, pytest.mark.slow]

ELEMENTS = 2**18      # H4a's headline tensor size
WIDTH, LAYERS, BATCH = 512, 4, 64  # H4b's MLP
ROUNDS = 30           # repetitions (the catalogue's 20–30)
ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def elementwise(act: str):
    x = torch.randn(ELEMENTS, generator=torch.Generator().manual_seed(0))
    return lambda: ACT[act](x)


def mlp(act: str):
    gen = torch.Generator().manual_seed(0)
    ws = [(torch.randn((WIDTH, WIDTH), generator=gen) / WIDTH**0.5).requires_grad_() for _ in range(LAYERS)]
    x = torch.randn((BATCH, WIDTH), generator=gen)

    def step():
        h = x
        for w in ws:
            h = ACT[act](h @ w.T)
        h.sum().backward()
    return step


WORKLOADS = {"elementwise": elementwise, "mlp": mlp}


@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("act", list(ACT))
def test_activation_cost(benchmark, workload, act):
    benchmark.group = f"H4 {workload}"
    benchmark.pedantic(WORKLOADS[workload](act), rounds=ROUNDS, iterations=10, warmup_rounds=3)


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_sigmoid_over_relu_ratio(workload):
    """Interleaved repetitions (load drifts hit both alike), the ratio of medians, and the catalogue's
    premise that the timer resolves: each side's half interquartile range within 5% of its median
    (else skipped as untestable)."""
    fns = {act: WORKLOADS[workload](act) for act in ACT}
    times = {act: [] for act in ACT}
    for fn in fns.values():
        for _ in range(3):
            fn()
    for _ in range(ROUNDS):
        for act, fn in fns.items():
            start = time.perf_counter()
            for _ in range(10):
                fn()
            times[act].append((time.perf_counter() - start) / 10)
    medians = {act: statistics.median(t) for act, t in times.items()}
    spread = {act: (statistics.quantiles(t, n=4)[2] - statistics.quantiles(t, n=4)[0]) / 2 / medians[act]
              for act, t in times.items()}
    print(f"\nH4 {workload}: sigmoid / ReLU = {medians['sigmoid'] / medians['relu']:.2f} "
          f"(medians {medians['sigmoid'] * 1e6:.0f} µs / {medians['relu'] * 1e6:.0f} µs; relative half-IQR "
          f"{spread['sigmoid']:.1%} / {spread['relu']:.1%}); machine-dependent, not a claim row")
    if not all(s <= 0.05 for s in spread.values()):  # the premise fails: the ratio is untestable, not wrong
        pytest.skip("the timer does not resolve on this machine now (load?): the ratio is untestable")
    assert 0.1 < medians["sigmoid"] / medians["relu"] < 100  # both timed the work they name
