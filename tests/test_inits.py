import math

import pytest
import torch

from dlclaims import inits


@pytest.mark.parametrize("scheme", inits.SCHEMES)
@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_variance_matches_formula_with_fan_in_and_fan_out(scheme, distribution):
    fan_out, fan_in = 300, 700  # unequal, so Xavier's fan average is exercised
    w = inits.init_(torch.empty(fan_out, fan_in), scheme, distribution, generator=torch.Generator().manual_seed(0))
    target = inits.variance(scheme, fan_in, fan_out)
    # sampling error of a variance estimate: sd ≈ target·sqrt((kurtosis - 1)/N); 5 sd is plenty
    kurtosis = 9 / 5 if distribution == "uniform" else 3
    tol = 5 * target * math.sqrt((kurtosis - 1) / w.numel())
    assert abs(float(w.var()) - target) < tol
    assert abs(float(w.mean())) < 5 * math.sqrt(target / w.numel())


def test_uniform_bounds_agree_with_torch_nn_init():
    g = torch.Generator().manual_seed(1)
    w = torch.empty(64, 256)
    torch.nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=g)
    assert float(w.abs().max()) <= inits.uniform_bound("he", 256, 64) + 1e-7
    assert float(w.abs().max()) > 0.99 * inits.uniform_bound("he", 256, 64)
    torch.nn.init.xavier_uniform_(w, generator=g)
    assert float(w.abs().max()) <= inits.uniform_bound("xavier", 256, 64) + 1e-7
    assert inits.uniform_bound("he", 2048, 2048) == pytest.approx(math.sqrt(6 / 2048))
    assert inits.uniform_bound("old", 2048, 2048) == pytest.approx(1 / math.sqrt(2048))


def test_unknown_scheme_is_an_error():
    with pytest.raises(ValueError, match="unknown init scheme"):
        inits.variance("glorious", 3, 3)
