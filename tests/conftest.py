"""Suite-wide hooks: report the Unleash specification tally in the closing summary."""

from __future__ import annotations

import pytest

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
