"""One figure style for the whole report, a deterministic PNG writer, and two helpers every
family uses: :func:`figure` (a figure function marked with the claims it supports) and
:func:`band_from` (a mean line with its 95% band over seeds, straight from a tidy table)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
PALETTE = sns.color_palette("colorblind")


def save(fig: plt.Figure, path: Path, dpi: int = 110) -> None:
    """Save without a timestamp or software tag, so the same table draws the same bytes."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def figure(*claims: str) -> Callable[[Callable], Callable]:
    """Mark ``figure_<name>(tables, cfg)`` with the claim ids it supports: the ids are kept on
    the function (``fn.claims``, for the report) and written in the figure's corner."""

    def mark(draw: Callable) -> Callable:
        @functools.wraps(draw)
        def drawn(tables, cfg) -> plt.Figure:
            fig = draw(tables, cfg)
            if claims:
                fig.text(0.995, 0.002, "claims " + ", ".join(claims), ha="right", va="bottom", fontsize=8,
                         color="0.35")
            return fig

        drawn.claims = tuple(claims)
        return drawn

    return mark


def band(ax: plt.Axes, x, mean, low, high, label: str, color=None, **kw) -> None:
    """A mean line with its confidence band."""
    (line,) = ax.plot(x, mean, label=label, color=color, **kw)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)


def band_from(ax: plt.Axes, table, x: str, y: str, label: str, color=None, seed: str = "seed", line_kw=None,
              **where) -> None:
    """:func:`band` of ``y`` against ``x`` over seeds, from the rows of ``table`` matching
    ``where`` (``variant="bn"``): the mean with its Student-t 95% band."""
    from dlclaims.suite import stats

    xs, mean, low, high = stats.band(table, x, y, seed=seed, **where)
    band(ax, xs, mean, low, high, label, color=color, **(line_kw or {}))


def close_all() -> None:
    """Drop half-drawn figures (after a figure function raised)."""
    plt.close("all")


_ESTIMATES: dict = {}


def result_line(claims, estimate, tables, cfg, *ids: str) -> str:
    """'C2b 0.68 [0.67, 0.69] holds; …': the headline value, interval and verdict of claims
    ``ids`` for a figure title that states its result; the verdict is the table's, so a claim
    whose premise did not hold reads ``untestable``. ``estimate(tables, cfg)`` runs once per run,
    however many titles ask."""
    from dlclaims.suite.claims import headline, with_premise

    key = (id(estimate), id(tables), id(cfg))
    if key not in _ESTIMATES:
        _ESTIMATES.clear()
        _ESTIMATES[key] = (tables, cfg, estimate(tables, cfg))  # kept alive, so their ids stay theirs
    estimates = _ESTIMATES[key][2]
    raw = {c.id: c.rule.verdict(headline(c, estimates[c.id])) for c in claims if c.id in estimates}
    premises = {c.id: c.premise for c in claims}
    parts = []
    for claim in (c for c in claims if c.id in ids):
        est = headline(claim, estimates[claim.id])
        verdict = with_premise(claim.id, raw, premises)
        parts.append(f"{claim.id} {est.value:.3g} [{est.ci_low:.3g}, {est.ci_high:.3g}] {verdict}")
    return "; ".join(parts)
