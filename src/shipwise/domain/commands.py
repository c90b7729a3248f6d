"""The ``shipwise`` commands that satisfy a gate, as remedies name them.

Each returns one command line in backticks (as the server's refusals quote commands, and
as Markdown shows code in a pull request's checklist), spelled as the CLI takes it
(``-e/--env``, ``--ref``, ``-p/--project``) and runnable as written in a POSIX shell:
every word is quoted where it needs it (a checklist item with spaces, a flag key
starting with ``~``), and the project is always named, so the line works whatever
``SHIPWISE_PROJECT`` says.
Placeholders are in capitals: ``TITLE``, ``SHA``, ``NOTE``; files start with ``@``.

Pure strings: the domain knows the CLI's spelling, not the CLI. A test parses every line
built here with the real ``shipwise`` command tree, so a renamed option fails it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from shipwise.domain.releases import Release

__all__ = [
    "apply_policy",
    "approve",
    "check",
    "ci_report",
    "create",
    "deploy_report",
    "drill",
    "promote",
    "record_commit",
    "record_help_docs",
    "restore_environment",
    "rollouts",
    "set_branch",
    "signoff",
    "split_keep",
    "write_justification",
    "write_rollback_plan",
]


def _line(release: Release, *words: str) -> str:
    line = " ".join(shlex.quote(word) for word in (*words, "-p", release.project))
    return f"`shipwise {line}`"


def promote(release: Release, target: str) -> str:
    return _line(release, "release", "promote", release.key, "--env", target)


def create(release: Release, *flags: str) -> str:
    """A new release, shipping ``flags``."""
    return _line(release, "release", "create", "TITLE", *(w for f in flags for w in ("--flag", f)))


def split_keep(release: Release, flag: str) -> str:
    """Keep only ``flag`` in the release."""
    return _line(release, "release", "update", release.key, "--flag", flag)


def record_commit(release: Release) -> str:
    return _line(release, "release", "update", release.key, "--ref", "SHA")


def record_help_docs(release: Release) -> str:
    return _line(release, "release", "help-docs", release.key, "URL")


def set_branch(release: Release, branch: str) -> str:
    return _line(release, "release", "update", release.key, "--branch", branch)


def write_rollback_plan(release: Release) -> str:
    return _line(release, "release", "update", release.key, "--rollback-plan", "@rollback.md")


def write_justification(release: Release) -> str:
    return _line(release, "release", "update", release.key, "--justification", "@why.md")


def approve(release: Release, target: str) -> str:
    return _line(release, "release", "approve", release.key, "--env", target)


def signoff(release: Release, kind: str, tested: str) -> str:
    kind_option = () if kind == "qa" else ("--kind", kind)  # qa is the command's default
    return _line(release, "release", "signoff", release.key, "--env", tested, *kind_option)


def check(release: Release, item: str, target: str) -> str:
    return _line(release, "release", "check", release.key, item, "--env", target, "--note", "NOTE")


def ci_report(release: Release, contexts: Sequence[str]) -> str:
    """What a pipeline runs when the first of ``contexts`` passes on the release's commit
    (docs/ci.md); the full SHA, because the gate compares whole commits."""
    commit = (release.commit or "SHA").strip()
    context = contexts[0] if contexts else "tests"
    return _line(
        release, "ci", "report", "--ref", commit, "--context", context, "--state", "success"
    )


def deploy_report(release: Release, environment: str) -> str:
    commit = (release.commit or "SHA").strip()
    return _line(release, "deploy", "report", "--env", environment, "--ref", commit)


def drill(release: Release, environment: str) -> str:
    """Rehearse the rollback in ``environment``: switch off, verify, restore, record."""
    return _line(release, "rollback", release.key, "--drill", "--env", environment)


def rollouts(release: Release, environment: str) -> str:
    """The rollout plans under way in ``environment``."""
    return _line(release, "rollout", "list", "--env", environment, "--active")


def restore_environment(release: Release, environment: str) -> str:
    return _line(release, "env", "create", environment)


def apply_policy(release: Release) -> str:
    return _line(release, "policy", "apply", "shipwise.toml")
