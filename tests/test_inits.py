import math

import pytest
import torch

from dlclaims.methods import inits


# torch.nn.init's own draws for each scheme: an independent implementation of the formulas
TORCH_INIT = {
    "he": lambda w, g: torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
    "xavier": lambda w, g: torch.nn.init.xavier_normal_(w, generator=g),
    "lecun": lambda w, g: torch.nn.init.kaiming_normal_(w, nonlinearity="linear", generator=g),
    "old": lambda w, g: torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g),  # nn.Linear's default
}


@pytest.mark.parametrize("scheme", inits.SCHEMES)
def test_the_variance_formula_is_the_variance_of_torch_nn_inits_draws(scheme):
    fan_out, fan_in = 300, 700  # unequal, so Xavier's fan average is exercised
    w = TORCH_INIT[scheme](torch.empty(fan_out, fan_in), torch.Generator().manual_seed(0))
    target = inits.variance(scheme, fan_in, fan_out)
    # sampling error of a variance estimate: sd ≈ target·sqrt((kurtosis - 1)/N); 5 sd is plenty
    kurtosis = 9 / 5 if scheme == "old" else 3
    assert abs(float(w.var()) - target) < 5 * target * math.sqrt((kurtosis - 1) / w.numel())


def test_the_variance_formula_fails_for_the_wrong_fan():
    """The test above can fail: He's variance is not Xavier's draw at unequal fans."""
    w = TORCH_INIT["xavier"](torch.empty(300, 700), torch.Generator().manual_seed(0))
    assert abs(float(w.var()) - inits.variance("he", 700, 300)) > 0.2 * inits.variance("he", 700, 300)


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
