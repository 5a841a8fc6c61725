"""The five lectures the claims quote, by course, and :func:`cite`, which writes a course's name
wherever generated text cites a lecture by its file id ("(003)" → "(Tsinghua IIIS)")."""

from __future__ import annotations

import re

# file id in ../shared/lectures/ -> (short name used in citations, the course in full)
COURSES = {
    "000": ("JHU EN.601.482", "Johns Hopkins University, EN.601.482 Machine Learning: Deep Learning — "
                              "activation, initialization, preprocessing, dropout, batch norm"),
    "001": ("METU DI504", "Middle East Technical University, DI504 Foundations of Deep Learning — deep training"),
    "002": ("Lyon 2", "Université Lumière Lyon 2, Atelier Data Science — deep learning practice 4, batch "
                      "normalization (I. Proskurina)"),
    "003": ("Tsinghua IIIS", "Tsinghua University IIIS, Deep Learning lecture 3 — supervised learning (2) "
                             "(Yi Wu, spring 2025)"),
    "004": ("Harbour Space", "Harbour Space University, Master's Computer Vision — tricks and optimization in "
                             "deep learning (S. Nikolenko, A. Davydow, 2020)"),
}

# a bare id: three digits 000–004 not inside a number ("20 000" included), a word, a path or a version
_ID = re.compile(r"(?<![\w.,/+\-])(?<!\d )(?<!\d\u00a0)(?<!\d\u202f)(00[0-4])(?![\w]|[.,]\d)")


def cite(text: str) -> str:
    """``text`` with every bare lecture id replaced by its course's short name."""
    return _ID.sub(lambda m: COURSES[m.group(1)][0], text)


def key_lines() -> list[str]:
    """The key the report prints once: each course's short name and what it is."""
    return [f"- **{short}**: {full}" for short, full in COURSES.values()]
