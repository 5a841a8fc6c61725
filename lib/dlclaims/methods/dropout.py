"""Dropout in its two forms, and the exact sub-network ensemble of one softmax layer.

With keep probability p each input of a layer is kept (mask r ~ Bernoulli(p)) or zeroed.

- **classic** (Srivastava et al. 2014, the lecture's form): training multiplies by the
  mask, test multiplies by p ("weights or activations scaled by p");
- **inverted** (what ``torch.nn.Dropout`` does): training multiplies by r / p, test is
  the identity.

The two are the same family of functions: a layer whose input has keep p computes, under
classic dropout with weight W, exactly what it computes under inverted dropout with weight
p·W, for every mask in training and at test time (:func:`classic_to_inverted`).

For a single softmax layer, weight scaling is not an approximation: softmax(p·W x + b)
is the normalised geometric mean of softmax(W (r ∘ x) + b) over all 2^N masks, each
weighted by its probability (uniform for p = 1/2); :func:`geometric_mean_over_masks`
enumerates them to show it.
"""

from __future__ import annotations

import itertools
from typing import Literal, Sequence

import torch

Mode = Literal["classic", "inverted"]
MODES: tuple[str, ...] = ("classic", "inverted")


def check_keep(keep: float | torch.Tensor) -> None:
    """Raise ValueError unless every keep probability lies in (0, 1]."""
    if isinstance(keep, (int, float)) and not isinstance(keep, bool):  # the common case, checked cheaply
        if not 0 < keep <= 1:  # NaN fails this too
            raise ValueError(f"keep probability {keep} is not allowed; expected a probability in (0, 1]")
        return
    values = torch.as_tensor(keep, dtype=torch.float64)
    if values.numel() == 0 or torch.isnan(values).any() or not bool(((values > 0) & (values <= 1)).all()):
        raise ValueError(f"keep probability {keep} is not allowed; expected a probability in (0, 1]")


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown dropout mode '{mode}'; choose from {', '.join(MODES)}")


def bernoulli_mask(
    shape: Sequence[int],
    keep: float | torch.Tensor,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """A 0/1 mask, each entry 1 with probability ``keep`` (a float or a broadcastable tensor).

    Drawn as U < keep from one uniform per entry, so keep = 1 gives all ones and every
    keep value uses the random stream the same way (common random numbers across keeps).
    """
    check_keep(keep)
    u = torch.rand(tuple(shape), generator=generator, dtype=dtype, device=device)
    return (u < _as_factor(keep, dtype, device)).to(dtype)


def _as_factor(keep: float | torch.Tensor, dtype: torch.dtype, device) -> float | torch.Tensor:
    """A Python number stays one (torch applies it in the tensor's dtype); a tensor is cast."""
    if isinstance(keep, (int, float)) and not isinstance(keep, bool):
        return float(keep)
    return torch.as_tensor(keep, dtype=dtype, device=device)


def dropout(
    x: torch.Tensor,
    keep: float | torch.Tensor,
    *,
    mode: Mode = "classic",
    training: bool,
    generator: torch.Generator | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Apply dropout with keep probability ``keep`` to ``x``.

    In training a mask is drawn from ``generator`` (or the given ``mask`` is used);
    at test time classic dropout multiplies by ``keep`` and inverted dropout is the identity.
    ``keep`` may be a tensor broadcasting against ``x`` (one keep per replicate).
    """
    _check_mode(mode)
    check_keep(keep)
    keep_t = _as_factor(keep, x.dtype, x.device)
    if not training:
        return x * keep_t if mode == "classic" else x
    if mask is None:
        mask = bernoulli_mask(x.shape, keep_t, generator, x.dtype, x.device)
    return x * mask if mode == "classic" else x * mask / keep_t


def classic_to_inverted(weights: Sequence[torch.Tensor], keeps: Sequence[float | torch.Tensor]) -> list[torch.Tensor]:
    """The weights under which an inverted-dropout net computes what a classic one does.

    ``weights[l]`` multiplies the (dropped-out) input of layer l, whose keep is ``keeps[l]``;
    biases are unchanged. Classic: W (r ∘ y), test W (p y). Inverted with p·W:
    p·W (r ∘ y / p) = W (r ∘ y), test p·W y. Equal for every mask and at test time.
    """
    if len(weights) != len(keeps):
        raise ValueError(f"{len(weights)} weights but {len(keeps)} keep probabilities")
    for keep in keeps:
        check_keep(keep)
    return [w * torch.as_tensor(p, dtype=w.dtype, device=w.device) for w, p in zip(weights, keeps)]


def all_masks(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The 2^n binary masks of length n, one per row."""
    if not 0 < n <= 20:
        raise ValueError(f"cannot enumerate 2^{n} masks; expected 1 <= n <= 20")
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=n)), dtype=dtype)


def mask_probabilities(masks: torch.Tensor, keep: float) -> torch.Tensor:
    """P(r) = prod_j p^r_j (1 - p)^(1 - r_j) for each mask row."""
    check_keep(keep)
    kept = masks.sum(1)
    return keep**kept * (1 - keep) ** (masks.shape[1] - kept)


def geometric_mean_over_masks(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor, keep: float) -> torch.Tensor:
    """Normalised probability-weighted geometric mean of softmax(W (r ∘ x) + b) over all masks.

    ``weight`` (classes, n), ``bias`` (classes,), ``x`` (batch, n); returns (batch, classes).
    Computed by brute force over the 2^n masks (use float64).
    """
    masks = all_masks(x.shape[1], dtype=x.dtype).to(x.device)
    log_p = torch.log_softmax((masks[:, None, :] * x[None]) @ weight.T + bias, dim=-1)  # (masks, batch, classes)
    w = mask_probabilities(masks, keep).to(x.dtype)
    log_geo = (w[:, None, None] * log_p).sum(0)
    return torch.softmax(log_geo, dim=-1)


def weight_scaled_softmax(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor, keep: float) -> torch.Tensor:
    """softmax(p·W x + b): the one deterministic pass of weight scaling."""
    return torch.softmax(dropout(x, keep, training=False) @ weight.T + bias, dim=-1)
