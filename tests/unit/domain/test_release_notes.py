"""Release notes assembled from commits: conventional headers, pull requests folded,
exclusions, edits, and the layout (breaking changes first)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipwise.domain.policy import PolicyError, dump_policy, parse_policy
from shipwise.domain.release_notes import (
    OTHER,
    EntryEdit,
    GitCommit,
    KnownPullRequest,
    apply_edits,
    assemble_notes,
    notes_rules,
    parse_conventional,
)
from shipwise.domain.release_notes_render import arrange, render_markdown


def _sha(n: int) -> str:
    return f"{n:040x}"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("feat: add search", ("feat", None, False, "add search")),
        ("fix(api): a crash", ("fix", "api", False, "a crash")),
        ("refactor!: drop v1", ("refactor", None, True, "drop v1")),
        ("Feat(UI)!: big", ("feat", "UI", True, "big")),
        ("docs: x\n\nBREAKING CHANGE: y", ("docs", None, True, "x")),
    ],
    ids=["plain", "scope", "bang", "upper-case-type", "footer"],
)
def test_parse_conventional__a_conventional_header__gives_its_parts(
    message: str, expected: tuple[str, str | None, bool, str]
) -> None:
    found = parse_conventional(message)
    assert found is not None
    assert (found.type, found.scope, found.breaking, found.description) == expected


@pytest.mark.parametrize(
    "message", ["Update the readme", "feat:no space", "feat: ", "", "Merge branch 'x'"]
)
def test_parse_conventional__anything_else__is_none(message: str) -> None:
    assert parse_conventional(message) is None


def _history() -> list[GitCommit]:
    """Newest first: a plain merge of a side branch, a squashed PR #9, the merge of PR #7
    (two commits of its own), a fix and a chore on the mainline."""
    return [
        GitCommit(_sha(9), "Merge branch 'side'", (_sha(7), _sha(8))),
        GitCommit(_sha(8), "docs: side note", (_sha(6),)),
        GitCommit(_sha(7), "perf: faster (#9)", (_sha(6),)),
        GitCommit(
            _sha(6), "Merge pull request #7 from a/b\n\nfeat(cart): saved", (_sha(3), _sha(5))
        ),
        GitCommit(_sha(5), "more wip", (_sha(4),)),
        GitCommit(_sha(4), "wip", (_sha(2),)),
        GitCommit(_sha(3), "fix: crash", (_sha(2),)),
        GitCommit(_sha(2), "chore: deps", (_sha(1),)),
    ]


def test_assemble__merged_pull_request__stands_for_the_commits_it_brought_in() -> None:
    entries = {e.key: e for e in assemble_notes(_history()).entries}

    merged = entries["pr-7"]
    assert (merged.type, merged.scope, merged.text) == ("feat", "cart", "saved")
    assert set(merged.commits) == {_sha(6), _sha(5), _sha(4)}
    assert f"commit-{_sha(3)}" in entries  # the mainline fix is not the PR's


def test_assemble__squashed_pull_request__takes_the_known_title_and_labels() -> None:
    pulls = [KnownPullRequest(9, "perf(db): faster lookups", ("backend",))]
    entry = {e.key: e for e in assemble_notes(_history(), pulls).entries}["pr-9"]

    assert (entry.type, entry.scope, entry.text, entry.labels) == (
        "perf",
        "db",
        "faster lookups",
        ("backend",),
    )


def test_assemble__exclude_rules__leave_out_types_and_patterns_and_name_them() -> None:
    rules = notes_rules(["chore", "^Merge branch"])
    assembly = assemble_notes(_history(), rules=rules)

    keys = [e.key for e in assembly.entries]
    assert f"commit-{_sha(2)}" not in keys
    assert f"commit-{_sha(9)}" not in keys
    assert set(assembly.excluded) == {_sha(2), _sha(9)}
    assert f"commit-{_sha(8)}" in keys  # the side branch's own commit still counts


def test_arrange__breaking_change__comes_first_and_once() -> None:
    commits = [
        GitCommit(_sha(2), "feat!: drop v1", (_sha(1),)),
        GitCommit(_sha(1), "feat: add v2", ()),
        GitCommit(_sha(3), "tidy things", ()),
    ]
    sections = arrange(assemble_notes(commits).entries)

    assert [s.title for s in sections] == ["Breaking changes", "Features", "Other changes"]
    markdown = render_markdown("rel-2: Two", sections)
    assert markdown.count("drop v1") == 1
    assert markdown.index("drop v1") < markdown.index("add v2")


def test_apply_edits__new_text_and_hidden__are_laid_over_gits_words() -> None:
    entries = assemble_notes(_history()).entries
    edits = [
        EntryEdit("pr-7", text="Saved carts, at last"),
        EntryEdit(f"commit-{_sha(8)}", hidden=True),
        EntryEdit("pr-404", text="gone from git"),
    ]
    edited = {e.key: e for e in apply_edits(entries, edits)}
    markdown = render_markdown("t", arrange(tuple(edited.values())))

    assert edited["pr-7"].text == "Saved carts, at last"
    assert edited["pr-7"].edited
    assert "side note" not in markdown
    assert "Saved carts, at last" in markdown


def test_notes_policy__bad_rules__each_reported_with_its_line() -> None:
    text = '[notes]\nexclude = [\n  "chore",\n  "(unclosed",\n  "x",\n  "x",\n]\n'
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)

    found = [(p.path, p.line) for p in raised.value.problems]
    assert found == [("notes.exclude[1]", 4), ("notes.exclude[3]", 6)]
    assert "invalid regular expression" in raised.value.problems[0].message


def test_notes_policy__written_back__reads_the_same() -> None:
    policy = parse_policy('[notes]\nexclude = ["chore", "ci", "^Merge branch"]\n')

    assert policy.notes_exclude == ("chore", "ci", "^Merge branch")
    assert parse_policy(dump_policy(policy)) == policy


# -- the property: every commit once, in an entry or excluded -----------------------------

_MESSAGES = st.sampled_from(
    [
        "feat: a",
        "fix(x): b",
        "chore: c",
        "refactor!: d",
        "plain words",
        "Merge branch 'x'",
        "perf: e (#3)",
        "docs: f (#4)",
        "Merge pull request #5 from a/b\n\nfeat: five",
        "Merge pull request #3 from a/b",
    ]
)


@st.composite
def _histories(draw: st.DrawFn) -> list[GitCommit]:
    """A random DAG, newest first: each commit's parents are older commits."""
    count = draw(st.integers(1, 25))
    commits: list[GitCommit] = []
    for n in range(count):
        older = list(range(n))
        parents = draw(st.lists(st.sampled_from(older), max_size=2, unique=True)) if older else []
        commits.append(GitCommit(_sha(n + 1), draw(_MESSAGES), tuple(_sha(p + 1) for p in parents)))
    return list(reversed(commits))


@given(
    _histories(),
    st.lists(st.sampled_from(["chore", "docs", "^Merge branch", "x", "feat"]), max_size=3),
)
def test_assemble__any_history__every_commit_appears_exactly_once_or_is_excluded(
    history: list[GitCommit], exclude: list[str]
) -> None:
    assembly = assemble_notes(history, [KnownPullRequest(5, "fix: five")], notes_rules(exclude))

    seen = [sha for entry in assembly.entries for sha in entry.commits] + list(assembly.excluded)
    assert sorted(seen) == sorted(c.sha for c in history)
    assert len({e.key for e in assembly.entries}) == len(assembly.entries)
    assert all(e.type != OTHER or e.scope is None for e in assembly.entries)
