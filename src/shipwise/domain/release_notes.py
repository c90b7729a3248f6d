"""A release's notes, assembled from the commits it ships: pure values in, entries out.

    parse_conventional(message) -> Conventional | None   "feat(api)!: add x" → its parts
    notes_rules(exclude) -> NotesRules                     ``[notes] exclude``, checked
    assemble_notes(commits, pull_requests, rules) -> Assembly
    apply_edits(entries, edits) -> entries                 a person's edits over git's text

``commits`` are those reachable from the release's commit and not from the previous
production release's (the git adapter walks them, every parent of a merge followed).
Each becomes exactly one entry, or is folded into its pull request's entry, or is
excluded by the policy: ``Assembly.excluded`` names those, so nothing goes missing
silently. A pull request is recognised by GitHub's own spellings: a squash commit ends
its subject with "(#123)"; a merge commit says "Merge pull request #123 from …" and
brings in the commits reachable from its other parents but not its first. The pull
request's title (the release's record of it, else the commit's words) stands for them.

An entry's ``key`` is stable across refreshes ("pr-123", or "commit-<sha>"), so a person's
edit (new text, or hidden) is kept by key and laid over whatever git says next time.
Rendering lives in ``release_notes_render``. Pure: ``re`` and the engine's RE2 only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from shipwise.engine.re2_syntax import Re2Pattern, RegexNotSupported, compile_re2

__all__ = [
    "MAX_EXCLUDE_RULES",
    "MAX_RULE_LENGTH",
    "OTHER",
    "Assembly",
    "Conventional",
    "EntryEdit",
    "GitCommit",
    "KnownPullRequest",
    "NoteEntry",
    "NotesRules",
    "apply_edits",
    "assemble_notes",
    "notes_rules",
    "parse_conventional",
    "rule_problem",
]

OTHER = "other"  # the type of a commit that is not a conventional one
MAX_EXCLUDE_RULES = 50
MAX_RULE_LENGTH = 200

# The Conventional Commits 1.0.0 header: type, optional (scope), optional "!", ": ", text.
_HEADER = re.compile(
    r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?: (?P<text>.+)$"
)
_BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE: ", re.MULTILINE)
_SQUASH = re.compile(r"\s*\(#(?P<number>\d{1,9})\)\s*$")
_MERGE = re.compile(r"^Merge pull request #(?P<number>\d{1,9})\b")
# A rule that looks like a type name is one; anything else is a regular expression.
_TYPE_RULE = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class GitCommit:
    sha: str
    message: str
    parents: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        return self.message.strip().splitlines()[0].strip() if self.message.strip() else ""


@dataclass(frozen=True, slots=True)
class KnownPullRequest:
    """A pull request the release records: its title stands for its commits."""

    number: int
    title: str = ""
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Conventional:
    type: str  # lower case
    scope: str | None
    breaking: bool
    description: str


@dataclass(frozen=True, slots=True)
class NotesRules:
    """What the policy leaves out: conventional types, and patterns (RE2, searched in an
    entry's headline) for the rest, such as "^Merge branch"."""

    exclude_types: frozenset[str] = frozenset()
    exclude_patterns: tuple[str, ...] = ()

    def excludes(self, entry_type: str, headlines: Iterable[str]) -> bool:
        if entry_type in self.exclude_types:
            return True
        patterns = _compiled(self.exclude_patterns)
        return any(p.matches(line) for p in patterns for line in headlines)


@dataclass(frozen=True, slots=True)
class NoteEntry:
    key: str  # "pr-<n>" or "commit-<sha>": stable across refreshes
    type: str  # a conventional type, or OTHER
    scope: str | None
    breaking: bool
    text: str
    commits: tuple[str, ...]  # newest first, as walked
    pull_request: int | None = None
    labels: tuple[str, ...] = ()
    hidden: bool = False
    edited: bool = False  # a person changed its text or hid it


@dataclass(frozen=True, slots=True)
class EntryEdit:
    key: str
    text: str | None = None  # None: git's text
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class Assembly:
    entries: tuple[NoteEntry, ...]
    excluded: tuple[str, ...] = field(default=())  # commits the policy's rules left out


def parse_conventional(message: str) -> Conventional | None:
    """The conventional-commit header of ``message`` (its first line), or None."""
    lines = message.strip().splitlines()
    match = _HEADER.match(lines[0].strip()) if lines else None
    if match is None or not match.group("text").strip():
        return None
    scope = match.group("scope")
    breaking = bool(match.group("bang")) or bool(_BREAKING_FOOTER.search(message))
    return Conventional(
        match.group("type").lower(),
        scope.strip() or None if scope is not None else None,
        breaking,
        match.group("text").strip(),
    )


def rule_problem(rule: str) -> str | None:
    """Why one ``[notes] exclude`` rule cannot be used, in words; None if it can."""
    if not rule.strip():
        return 'is empty; write a type such as "chore" or a pattern such as "^Merge branch"'
    if len(rule) > MAX_RULE_LENGTH:
        return f"is {len(rule)} characters long; a rule has at most {MAX_RULE_LENGTH}"
    if _TYPE_RULE.match(rule):
        return None
    try:
        compile_re2(rule)
    except RegexNotSupported as error:
        return f"{error} (a rule that is not a type name is an RE2 regular expression)"
    return None


def notes_rules(exclude: Sequence[str]) -> NotesRules:
    """The rules ``exclude`` lists; raises ValueError naming the first bad one (the policy
    reader checks each with ``rule_problem`` first, to report them all with their line)."""
    if len(exclude) > MAX_EXCLUDE_RULES:
        raise ValueError(f"{len(exclude)} exclude rules; at most {MAX_EXCLUDE_RULES}")
    for rule in exclude:
        if problem := rule_problem(rule):
            raise ValueError(f"exclude rule {rule!r} {problem}")
    types = frozenset(r for r in exclude if _TYPE_RULE.match(r))
    return NotesRules(types, tuple(r for r in exclude if r not in types))


@cache
def _compiled(patterns: tuple[str, ...]) -> tuple[Re2Pattern, ...]:
    return tuple(compile_re2(p) for p in patterns)


def _pr_number(commit: GitCommit) -> int | None:
    subject = commit.subject
    found = _MERGE.match(subject) or _SQUASH.search(subject)
    return int(found.group("number")) if found else None


def _is_merge_of_pr(commit: GitCommit) -> bool:
    return bool(_MERGE.match(commit.subject)) and len(commit.parents) > 1


def _reachable(starts: Iterable[str], within: Mapping[str, GitCommit]) -> set[str]:
    """Commits of ``within`` reachable from ``starts`` (walking parents inside it)."""
    seen: set[str] = set()
    stack = [s for s in starts if s in within]
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        stack.extend(p for p in within[sha].parents if p in within and p not in seen)
    return seen


def _owners(commits: Sequence[GitCommit]) -> dict[str, int]:
    """Each commit that belongs to a pull request → its number. A merge commit of a pull
    request owns what it brought in (its other parents' side, not its first parent's);
    the newest merge claims a commit first."""
    by_sha = {c.sha: c for c in commits}
    owner: dict[str, int] = {}
    for commit in commits:
        number = _pr_number(commit)
        if number is None:
            continue
        owner.setdefault(commit.sha, number)
        if _is_merge_of_pr(commit):
            mainline = _reachable(commit.parents[:1], by_sha)
            for sha in _reachable(commit.parents[1:], by_sha) - mainline:
                owner.setdefault(sha, number)
    return owner


def _pr_entry(
    number: int, members: list[GitCommit], known: KnownPullRequest | None
) -> tuple[NoteEntry, list[str]]:
    """The entry of a pull request and the headlines exclusion rules look at."""
    carriers = [c for c in members if _pr_number(c) == number] or members
    headline = carriers[0].subject
    fallback = _SQUASH.sub("", headline)
    if _is_merge_of_pr(carriers[0]):  # GitHub writes the title on the merge's third line
        body = [line.strip() for line in carriers[0].message.strip().splitlines()[1:]]
        fallback = next((line for line in body if line), headline)
    title = known.title.strip() if known is not None and known.title.strip() else fallback
    header = parse_conventional(title) or parse_conventional(fallback)
    breaking = any((parse_conventional(c.message) or _NONE).breaking for c in members)
    entry = NoteEntry(
        key=f"pr-{number}",
        type=header.type if header else OTHER,
        scope=header.scope if header else None,
        breaking=breaking or (header is not None and header.breaking),
        text=header.description if header else title,
        commits=tuple(c.sha for c in members),
        pull_request=number,
        labels=known.labels if known is not None else (),
    )
    return entry, [title, headline]


_NONE = Conventional(OTHER, None, False, "")


def _commit_entry(commit: GitCommit) -> NoteEntry:
    header = parse_conventional(commit.message)
    return NoteEntry(
        key=f"commit-{commit.sha}",
        type=header.type if header else OTHER,
        scope=header.scope if header else None,
        breaking=header.breaking if header else False,
        text=header.description if header else commit.subject,
        commits=(commit.sha,),
    )


def assemble_notes(
    commits: Sequence[GitCommit],
    pull_requests: Sequence[KnownPullRequest] = (),
    rules: NotesRules | None = None,
) -> Assembly:
    """The entries for ``commits`` (newest first), in that order: one per pull request
    (at its newest commit's place) and one per other commit, less what ``rules`` exclude."""
    rules = rules or NotesRules()
    known = {p.number: p for p in pull_requests}
    owner = _owners(commits)
    members: dict[int, list[GitCommit]] = {}
    for commit in commits:
        if commit.sha in owner:
            members.setdefault(owner[commit.sha], []).append(commit)
    entries: list[NoteEntry] = []
    excluded: list[str] = []
    done: set[int] = set()
    for commit in commits:
        number = owner.get(commit.sha)
        if number is not None:
            if number in done:
                continue
            done.add(number)
            entry, headlines = _pr_entry(number, members[number], known.get(number))
        else:
            entry, headlines = _commit_entry(commit), [commit.subject]
        if rules.excludes(entry.type, headlines):
            excluded.extend(entry.commits)
        else:
            entries.append(entry)
    return Assembly(tuple(entries), tuple(excluded))


def apply_edits(entries: Sequence[NoteEntry], edits: Iterable[EntryEdit]) -> tuple[NoteEntry, ...]:
    """``entries`` with each person's edit laid over git's words (by key: an edit of an
    entry git no longer lists is kept, unused, for when it comes back)."""
    by_key = {edit.key: edit for edit in edits}
    edited = []
    for entry in entries:
        edit = by_key.get(entry.key)
        if edit is None:
            edited.append(entry)
            continue
        text = entry.text if edit.text is None else edit.text
        edited.append(replace(entry, text=text, hidden=edit.hidden, edited=True))
    return tuple(edited)
