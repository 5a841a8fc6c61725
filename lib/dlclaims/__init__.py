"""dlclaims: reproduce, measure and check the claims deep-learning lectures make.

The library holds the techniques, one module each; the analyses in ``analyses/`` use
them and write through the results contract (see ``dlclaims.analysis``).
"""

__version__ = "0.1.0"
