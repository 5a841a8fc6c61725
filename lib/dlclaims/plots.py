"""One figure style for the whole report, and a deterministic PNG writer."""

from __future__ import annotations

from pathlib import Path

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


def band(ax: plt.Axes, x, mean, low, high, label: str, color=None, **kw) -> None:
    """A mean line with its confidence band."""
    (line,) = ax.plot(x, mean, label=label, color=color, **kw)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)


def close_all() -> None:
    """Drop half-drawn figures (after a figure function raised)."""
    plt.close("all")
