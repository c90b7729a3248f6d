"""``engine.problems``: the collector every reader of people's files shares: it keeps each
problem with where it is, in the order found, and raises once with all of them."""

from __future__ import annotations

import pytest

from shipwise.engine import problems as problems_module
from shipwise.engine.problems import Problem, Problems, closest, did_you_mean


class _Listed(Exception):
    def __init__(self, found: tuple[Problem, ...]) -> None:
        self.found = found
        super().__init__(f"{len(found)} problems")


def test_problems__several_added__are_raised_together_in_order() -> None:
    collected = Problems()
    first = Problem("steps[0].percentage", "must be between 1 and 100, got 0")
    second = Problem("timezone", '"Europe/Olso" is not a time zone', line=1)
    collected.add(first)
    collected.add(second)

    with pytest.raises(_Listed) as raised:
        collected.raise_if_any(_Listed)

    assert raised.value.found == (first, second)
    assert len(collected) == 2


def test_problems__none_added__raises_nothing() -> None:
    collected = Problems()

    collected.raise_if_any(_Listed)

    assert not collected


def test_problem__text__is_the_message_then_the_suggestion() -> None:
    assert Problem("a", "unknown key", suggestion="write b").text == "unknown key; write b"
    assert Problem(None, "is empty").text == "is empty"


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        pytest.param("Production", "production", id="case"),
        pytest.param("prod", "production", id="prefix"),
        pytest.param("stagign", "staging", id="letters"),
        pytest.param("zzz", None, id="nothing-close"),
    ],
)
def test_closest__finds_what_was_probably_meant(word: str, meant: str | None) -> None:
    assert closest(word, ["dev", "staging", "production"]) == meant


def test_did_you_mean__nothing_close__says_nothing() -> None:
    assert did_you_mean("prod", ["production"]) == 'did you mean "production"? '
    assert did_you_mean("zzz", ["production"]) == ""


def test_module__public_names_are_all_exported() -> None:
    public = {name for name in vars(problems_module) if not name.startswith("_")}
    assert set(problems_module.__all__) <= public
    assert {"Problem", "Problems", "closest", "did_you_mean"} == set(problems_module.__all__)
