"""How verdicts put numbers into words: the values, shares and settings a person reads
in a judgement's summary ("2.5%", "+12%", "95% confidence", "1 in 20")."""

from __future__ import annotations

from functools import lru_cache


def value(kind: str, poisson: bool, x: float) -> str:
    """A metric's value: a rate as a percentage (or per exposure, for Poisson counts)."""
    if kind == "rate" and not poisson:
        return f"{x * 100:.2f}%"
    if kind == "rate":
        return f"{number(x)} per exposure"
    return number(x)


def number(x: float) -> str:
    size = abs(x)
    if size >= 1000:
        return f"{x:,.0f}"
    if size >= 1 or x == 0:
        return f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{x:.3g}"


def share(x: float) -> str:
    """0.5 -> "50%", 0.025 -> "2.5%", 0.0967 -> "9.67%"."""
    return f"{x * 100:.2f}".rstrip("0").rstrip(".") + "%"


def relative(r: float) -> str:
    return f"{r * 100:+.1f}%" if abs(r) < 0.095 else f"{r * 100:+.0f}%"


# The few settings (alpha, max_worse) recur at every check: their words are kept.
@lru_cache(maxsize=64)
def confidence(alpha: float) -> str:
    return share(1.0 - alpha)


@lru_cache(maxsize=64)
def allowed(max_worse: float) -> str:
    return share(max_worse)


@lru_cache(maxsize=64)
def one_in(alpha: float) -> str:
    return f"{1.0 / alpha:,.0f}"
