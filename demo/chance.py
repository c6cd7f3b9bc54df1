"""Seeded random choices the demo makes everywhere: weighted picks and fair shares."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def weighted(rng: random.Random, pairs: Iterable[tuple[T, float]]) -> T:
    """One item of ``(item, weight)`` pairs, drawn in proportion to the weights."""
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def apportion(total: int, weights: list[tuple[T, float]]) -> list[T]:
    """``total`` items dealt out in proportion to ``weights`` (largest remainder), in a fixed order."""
    whole = sum(w for _item, w in weights)
    shares = [(item, total * w / whole) for item, w in weights]
    counts = {i: int(share) for i, (_item, share) in enumerate(shares)}
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i][1] - counts[i]), i))
    for i in by_remainder[: total - sum(counts.values())]:
        counts[i] += 1
    return [shares[i][0] for i in range(len(shares)) for _ in range(counts[i])]
