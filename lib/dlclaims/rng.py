"""Named random streams: every draw comes from a stream named for what it draws.

In the manner of AlgoPerf's ``prng.split`` / ``fold_in``: a unit's seed and a path of names
(``"init"``, ``"batches"``, an epoch, a problem index) fold into one 63-bit key, so two
streams never overlap by accident, adding a stream moves no other, and no code writes a
numeric offset such as ``1000 + seed``::

    g = stream(seed, "init")                     # torch.Generator for the weights
    order = stream(seed, "batches", epoch)       # one per epoch
    rng = np_stream(seed, "problem", "design")   # numpy Generator

The key is a hash of the path's text (SHA-256), so it is the same on every machine,
process and executor.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Union

import numpy as np

if TYPE_CHECKING:
    import torch

Name = Union[str, int]
MASK = (1 << 63) - 1


def fold_in(seed: int, *names: Name) -> int:
    """The 63-bit key of the stream ``names`` under ``seed``: fold_in(s, "a", "b") is
    fold_in(fold_in(s, "a"), "b"), and different paths give unrelated keys."""
    key = int(seed)
    for name in names:
        if not isinstance(name, (str, int, np.integer)) or isinstance(name, bool):
            raise TypeError(f"a stream name is a string or an integer, not {name!r}")
        text = json.dumps([key, name if isinstance(name, str) else int(name)])
        key = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") & MASK
    return key


def stream(seed: int, *names: Name, device: str = "cpu") -> "torch.Generator":
    """A torch generator on ``device`` seeded with :func:`fold_in` ``(seed, *names)``."""
    import torch

    return torch.Generator(device=device).manual_seed(fold_in(seed, *names))


def np_stream(seed: int, *names: Name) -> np.random.Generator:
    """A numpy generator (PCG64) seeded with :func:`fold_in` ``(seed, *names)``."""
    return np.random.default_rng(fold_in(seed, *names))
