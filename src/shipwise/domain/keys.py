"""Keys: what may name a flag, a project, an environment, a release, a segment or a tag,
and how to say so, in words and with a key that would do, when something may not.

Flag keys are Unleash's feature names (``nameType`` in Unleash's
``src/lib/routes/util.ts``): what JavaScript's ``encodeURIComponent`` leaves as it is
(letters of either case, digits and ``- _ . ~ ! * ' ( )``), 1 to 100 characters, and
not ``.`` or ``..``, which a URL would read as steps of its path. A team moving in from
Unleash keeps its names (``newCheckout``, ``Feature.C``, ``a~b``), its Unleash SDKs keep
asking for them, and every one is a path segment as it is. Case counts, as in Unleash:
``newCheckout`` and ``newcheckout`` are two flags.

Every other key keeps the rule it had: lowercase ASCII letters, digits, ``.``, ``_`` and
``-``, starting with a letter or digit, at most 63 characters. People type these in
commands, branch names, policies and PR bodies (``Release: rel-7``), where ``Staging``
beside ``staging`` would be a trap, and nothing brings them over from elsewhere.

A refusal names the culprit (the character and its position, the length, the path step),
states the rule in words (never the pattern) and suggests a key built from the one given.
Pure: ``re`` and ``domain.text`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipwise.domain.text import name_problem

_SCAN_LIMIT = 1000  # longer input is refused for its length alone, without a scan
_SHOWN = 40  # characters of an over-long key quoted in a message


@dataclass(frozen=True, slots=True)
class KeyRule:
    """One kind of key: ``noun`` names one ("flag key"), ``plural`` starts the rule's
    sentence ("flag keys may use ..."), ``example`` is suggested when nothing of the
    given key survives."""

    noun: str
    plural: str
    lowercase: bool
    longest: int
    example: str

    @property
    def characters(self) -> frozenset[str]:
        return _LOWER_CHARACTERS if self.lowercase else _FLAG_CHARACTERS

    @property
    def rule(self) -> str:
        """The rule in words: ``release keys are lowercase letters, ...``."""
        if self.lowercase:
            return (
                f"{self.plural} are lowercase letters, digits, '.', '_' and '-', starting "
                f"with a letter or digit, at most {self.longest} characters"
            )
        return (
            f"{self.plural} may use letters, digits, '-', '_', '.', '~', '!', '*', \"'\", "
            f"'(' and ')', at most {self.longest} characters"
        )

    @property
    def pattern(self) -> str:
        """The rule as a regular expression, for machine-readable schemas (OpenAPI)."""
        if self.lowercase:
            return rf"^[a-z0-9][a-z0-9._-]{{0,{self.longest - 1}}}$"
        return rf"^(?!\.\.?$)[A-Za-z0-9_.~!*'()-]{{1,{self.longest}}}$"

    def allows(self, key: str) -> bool:
        if not 0 < len(key) <= self.longest:
            return False
        if self.lowercase:
            return _LOWER_KEY.fullmatch(key) is not None
        return _FLAG_KEY.fullmatch(key) is not None and key not in _PATH_STEPS

    def problem(self, key: str) -> str | None:
        """Why ``key`` cannot be one of these, in words, or None when it can."""
        if self.allows(key):
            return None
        shown = _shown(key)
        hidden = name_problem(key) if 0 < len(key) <= _SCAN_LIMIT else None
        if hidden is not None:  # an invisible character is named, not shown
            return f"{shown} is not a valid {self.noun}: it {hidden}"
        return (
            f"{shown} is not a valid {self.noun}: {self._culprit(key)}; "
            f"{self.rule}: try {self.suggestion(key)!r}"
        )

    def suggestion(self, key: str) -> str:
        """A key this rule allows, made from ``key``: runs of refused characters become
        one ``-``, capitals become small where the rule is lowercase, and the result is
        cut to length; the example when nothing is left."""
        text = key[: self.longest * 4]
        if self.lowercase:
            text = _NOT_LOWER.sub("-", text.lower()).lstrip("._-")
        else:
            text = _NOT_FLAG.sub("-", text).strip("-")
        text = text[: self.longest].rstrip("-")
        return text if text and self.allows(text) else self.example

    def _culprit(self, key: str) -> str:
        if not key:
            return "it is empty"
        if len(key) <= _SCAN_LIMIT:
            for index, char in enumerate(key):
                if char in self.characters:
                    if self.lowercase and index == 0 and not char.isalnum():
                        return f"it starts with {char!r}"
                    continue
                if self.lowercase and char in _UPPER:
                    return f"{char!r} at position {index + 1} is uppercase"
                return f"{char!r} at position {index + 1} is not allowed"
        if len(key) > self.longest:
            return f"it is {len(key)} characters long"
        return "'.' and '..' are steps in a path, not names"


_LOWER_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_FLAG_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!*'()"
)
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER_KEY = re.compile(r"[a-z0-9][a-z0-9._-]*")
_FLAG_KEY = re.compile(r"[A-Za-z0-9_.~!*'()-]+")
_NOT_LOWER = re.compile(r"[^a-z0-9._-]+")
_NOT_FLAG = re.compile(r"[^A-Za-z0-9_.~!*'()-]+")
_PATH_STEPS = frozenset({".", ".."})


def _shown(key: str) -> str:
    if len(key) <= _SHOWN + 10:
        return repr(key)
    return f"{key[:_SHOWN]!r}… ({len(key)} characters)"


# Unleash's length limit for feature names; the flags' column holds 200.
FLAG_KEY = KeyRule("flag key", "flag keys", lowercase=False, longest=100, example="new-checkout")
PROJECT_KEY = KeyRule("project key", "project keys", lowercase=True, longest=63, example="web")
ENVIRONMENT_KEY = KeyRule(
    "environment key", "environment keys", lowercase=True, longest=63, example="staging"
)
RELEASE_KEY = KeyRule("release key", "release keys", lowercase=True, longest=63, example="rel-7")
SEGMENT_NAME = KeyRule(
    "segment name", "segment names", lowercase=True, longest=63, example="beta-testers"
)
TAG = KeyRule("tag", "tags", lowercase=True, longest=63, example="team-payments")
TEMPLATE_NAME = KeyRule(
    "template name", "template names", lowercase=True, longest=63, example="weekly"
)
# Anything else a key names (a sign-off kind, a policy's environment): the lowercase rule.
KEY = KeyRule("key", "keys", lowercase=True, longest=63, example="my-key")


def key_problem(key: str, rule: KeyRule = KEY) -> str | None:
    """Why ``key`` cannot be a key of ``rule``'s kind, in words, or None when it can."""
    return rule.problem(key)
