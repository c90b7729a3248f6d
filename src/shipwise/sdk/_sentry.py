"""Telling Sentry which flags were on: each counted evaluation of a client built with
``sentry=True`` goes into ``sentry_sdk``'s feature-flag context
(``sentry_sdk.feature_flags.add_feature_flag``), so an error Sentry captures afterwards
in that scope lists the flags and their values, and Sentry can name a suspect flag.

Off by default: a client records only when asked (``Client(..., sentry=True)``), and
then needs ``sentry_sdk`` 2.20 or newer (``pip install "shipwise[sentry]"``); asking
without it is a misconfiguration, refused when the client is built. ``sentry_sdk`` is
imported once, there, never on the evaluation path; a client without Sentry evaluates
exactly as before (its entries carry the plain counters).

What is recorded is what the application got: ``is_enabled``'s bool, ``get_variant``'s
``feature_enabled``. Unknown flags and failed evaluations (the caller's default) are not
recorded: Sentry would show a value Shipwise never decided. Recording never raises into
the application: a failure is logged to ``shipwise.sdk`` at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("shipwise.sdk")

Record = Callable[[str, bool], object]  # (flag, result)

INSTALL_HINT = 'pip install "shipwise[sentry]" (sentry-sdk 2.20 or newer)'


def recorder() -> Record:
    """``sentry_sdk``'s ``add_feature_flag``, imported now; ``ValueError`` saying what
    to install when it cannot be."""
    try:
        from sentry_sdk.feature_flags import add_feature_flag  # noqa: PLC0415
    except ImportError:
        raise ValueError(
            "Client(sentry=True) records evaluations in Sentry and needs sentry_sdk: "
            + INSTALL_HINT
        ) from None
    return _never_raising(add_feature_flag)


def _never_raising(add: Record) -> Record:
    failed = False

    def record(flag: str, result: bool) -> None:
        nonlocal failed
        try:
            add(flag, result)
        except Exception:  # Sentry's trouble must never become the application's
            if not failed:
                failed = True
                log.exception("shipwise: recording %r in Sentry's flag context failed", flag)

    return record


def recorded(
    count: Callable[[], object], flag: str, result: bool, record: Record
) -> Callable[[], None]:
    """``count``, which also records ``flag`` as ``result`` in Sentry."""

    def count_and_record() -> None:
        count()
        record(flag, result)

    return count_and_record
