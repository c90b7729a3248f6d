"""What a Vercel deployment id is, checked once for every edge one enters by.

A deploy report may name the Vercel deployment that serves its commit, so drained
records (which carry Vercel's ``deploymentId``) can be read per deploy. Vercel spells a
deployment ``dpl_`` followed by letters and digits; anything else (a deployment's URL,
its name, a typo) would never match a drained record, so it is refused in words rather
than kept as a link that can never be used.

Pure: ``re`` only.
"""

from __future__ import annotations

import re

MAX_LENGTH = 100  # as long as a drained record's deployment id may be
_ID = re.compile(r"dpl_[A-Za-z0-9]+")


def deployment_problem(value: str) -> str | None:
    """Why ``value`` is not a Vercel deployment id, in words; None if it is one."""
    if len(value) > MAX_LENGTH:
        return f"a Vercel deployment id has at most {MAX_LENGTH} characters, not {len(value)}"
    if _ID.fullmatch(value) is None:
        return (
            f"{value[:80]!r} is not a Vercel deployment id: give `dpl_` followed by letters "
            "and digits (the deployment's id, not its URL), e.g. dpl_2YjTyBpWVEXBpbTA2Xvk"
        )
    return None
