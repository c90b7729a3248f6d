"""The labels people give a release: checked, each once, and the hotfix path's label
neither added nor taken away by hand."""

from __future__ import annotations

import pytest

from shipwise.domain.releases import MAX_LABELS, people_labels


def test_people_labels__are_kept_once_each_whatever_their_case() -> None:
    assert people_labels(["major", "Major", "beta"], reserved="HOTFIX") == ("major", "beta")


def test_people_labels__keep_the_hotfix_label_a_release_has_and_refuse_it_by_hand() -> None:
    assert people_labels(["major"], reserved="HOTFIX", kept=("HOTFIX", "old")) == (
        "HOTFIX",
        "major",
    )
    with pytest.raises(ValueError, match="'hotfix' is the hotfix path's"):
        people_labels(["hotfix"], reserved="HOTFIX")


@pytest.mark.parametrize("label", ["", " major", "a" * 41, "ma jor", "-x", "major\n"])
def test_people_labels__refuse_a_label_that_is_not_a_short_word__naming_it(label: str) -> None:
    with pytest.raises(ValueError, match="label"):
        people_labels([label], reserved="HOTFIX")


def test_people_labels__refuse_more_than_the_limit() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_LABELS}"):
        people_labels([f"l{n}" for n in range(MAX_LABELS + 1)], reserved="HOTFIX")
