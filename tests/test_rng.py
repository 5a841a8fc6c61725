"""Named random streams: stable keys, distinct streams, no offsets."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from dlclaims.rng import fold_in, np_stream, stream


def test_a_key_is_the_sha256_of_the_path_folded_name_by_name():
    expected = int.from_bytes(hashlib.sha256(json.dumps([7, "init"]).encode()).digest()[:8], "little") & (2**63 - 1)
    assert fold_in(7, "init") == expected
    assert fold_in(7, "batches", 3) == fold_in(fold_in(7, "batches"), 3)
    assert fold_in(7) == 7


def test_different_names_seeds_and_orders_give_different_streams():
    keys = {fold_in(s, *path) for s in range(20) for path in (("init",), ("batches",), ("a", "b"), ("b", "a"))}
    assert len(keys) == 80
    assert not torch.equal(torch.rand(8, generator=stream(0, "init")), torch.rand(8, generator=stream(0, "batches")))
    assert torch.equal(torch.rand(8, generator=stream(3, "x", 1)), torch.rand(8, generator=stream(3, "x", 1)))
    assert (np_stream(3, "x").random(4) == np_stream(3, "x").random(4)).all()


def test_a_name_that_is_neither_text_nor_an_integer_is_refused():
    with pytest.raises(TypeError):
        fold_in(0, 1.5)
    with pytest.raises(TypeError):
        fold_in(0, True)
