"""methods.replicas' per-replicate loss against one torch cross-entropy per replicate."""

import torch
import torch.nn.functional as F

from dlclaims.methods import replicas


def test_replicate_losses_take_shared_or_per_replicate_labels():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 4, generator=gen)
    own = torch.randint(4, (3, 5), generator=gen)
    shared = own[0]
    expected_own = torch.stack([F.cross_entropy(logits[r], own[r]) for r in range(3)])
    expected_shared = torch.stack([F.cross_entropy(logits[r], shared) for r in range(3)])
    torch.testing.assert_close(replicas.replicate_losses(logits, own), expected_own)
    torch.testing.assert_close(replicas.replicate_losses(logits, shared), expected_shared)
    assert not torch.allclose(expected_own, expected_shared)  # the two label sets give different losses
