"""Seeded draws shared by the exercise simulators: one RNG per (seed, bucket...), so a run is
the same however its time is cut, and Poisson counts per minute bucket."""

from __future__ import annotations

import hashlib
import math
import random

__all__ = ["poisson", "seeded"]


def seeded(seed: int, *parts: object) -> random.Random:
    """The RNG of one bucket (e.g. seed, "media", minute): independent of every other draw."""
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 -- simulation


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's draw; the means here are a few per minute."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
