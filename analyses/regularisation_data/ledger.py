"""The ledger of regularisation-data: rows added or changed after the committed baseline."""

from dlclaims.suite.claims import Added, Amendment, Retired

DATE = "2026-12-02"

AMENDMENTS: list[Amendment | Added | Retired] = [
    Added("K1a", DATE, why="K1's derived half: weight decay shrinks the weights (the catalogue's row, left out of the "
                           "first baseline for its cost; now on MNIST-1D nets paired with the unaugmented nets)"),
    Added("K1b", DATE, why="K1's lecture sentence, 'Weight Decay' against 'Overfitted responses'; premise K8-gap, the "
                           "λ = 0 nets are K8's unaugmented nets"),
    Added("K5-fragile", DATE, why="K5's premise: zeroing units must hurt the plain net for dropout to be able to "
                                  "hurt less"),
    Added("K5", DATE, why="K5's lecture sentence, 'Dropout forces the neural network to learn redundant patterns' "
                          "(the catalogue's row, left out of the first baseline for its cost)"),
    Added("K5r-fragile", DATE, why="K5r's premise, as K5-fragile with the survivors rescaled"),
    Added("K5r", DATE, why="K5's ablation with the survivors rescaled by 1/(1 − f): zeroing alone also shrinks the "
                           "next layer's input, which inverted dropout never trains for; this row separates the "
                           "lost units' information from that shrinkage (reported beside K5, which keeps the "
                           "catalogue's zeroing)"),
]
