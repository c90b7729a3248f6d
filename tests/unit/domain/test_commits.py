"""The one rule for a commit identity: the full SHA, lower case; a short one refused."""

from __future__ import annotations

import pytest

from shipwise.domain.commits import commit_problem, normalize_commit

SHA1 = "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
SHA256 = "9b1d0e77" * 8


@pytest.mark.parametrize("value", [SHA1, SHA256])
def test_normalize_commit__full_lower_case_sha__is_kept_as_it_is(value: str) -> None:
    assert normalize_commit(value) == value
    assert commit_problem(value) is None


@pytest.mark.parametrize("value", [SHA1.upper(), f"  {SHA1[:20].upper()}{SHA1[20:]}\n"])
def test_normalize_commit__upper_case_or_padded__is_lowered_and_trimmed(value: str) -> None:
    assert normalize_commit(value) == SHA1


def test_normalize_commit__short_sha__refused_naming_git_rev_parse() -> None:
    with pytest.raises(ValueError, match="is short") as refused:
        normalize_commit("4f2a9c1")
    assert str(refused.value) == (
        "commit '4f2a9c1' is short: give the full 40-character SHA "
        "(e.g. `git rev-parse 4f2a9c1`), since the gates compare whole commits"
    )


@pytest.mark.parametrize("length", [41, 50, 63, 65])
def test_normalize_commit__between_or_beyond_the_sha_lengths__refused(length: int) -> None:
    with pytest.raises(ValueError, match=f"has {length} hex digits"):
        normalize_commit("a" * length)


@pytest.mark.parametrize("value", ["", "   ", "main", "refs/heads/main", f"g{SHA1[1:]}"])
def test_normalize_commit__not_hex__refused_as_not_a_sha(value: str) -> None:
    with pytest.raises(ValueError, match="is not a commit SHA"):
        normalize_commit(value)
