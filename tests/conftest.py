"""Suite-wide hooks: report the Unleash specification tally in the closing summary."""

from __future__ import annotations

import gc
import os

import pytest

# The database fixtures (database_url, postgres_url and their empty_ forms), for every
# directory of tests.
pytest_plugins = ["tests.support.databases"]

# pytest-xdist starts its workers with COLUMNS=80 and LINES=24. Rich fixes a console's
# width when it is made if COLUMNS is set, so the CLI's module-level consoles would keep
# 80 columns and ignore the width each CLI test gives (cli_runner.py): a table would wrap
# in one process and not in another, by the order the tests ran in.
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)

# The collector tuned as `shipwise serve` tunes it (serve.tune_garbage_collector): the test
# servers run in this process, and at Python's default thresholds a worker spent about a
# fifth of its time in collections (99 s against 82 s for the same 1,637 tests).
gc.set_threshold(50_000, 20, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection built (modules, test items) lives for the whole run: out of the
    collector's sight, so full collections scan only what the tests make."""
    gc.collect()
    gc.freeze()


_tally = {"passed": 0, "failed": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and "::test_specification_case[" in report.nodeid:
        _tally["passed" if report.passed else "failed"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    total = _tally["passed"] + _tally["failed"]
    if total:
        terminalreporter.write_line(
            f"Unleash client specification: {_tally['passed']}/{total} cases passed"
        )
