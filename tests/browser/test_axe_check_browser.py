"""The accessibility check the dashboard's browser tests rely on can fail: on a page with
a serious violation it fails and names the rule and the element, so a clean result on
the dashboard's pages means something."""

from __future__ import annotations

import pytest
from tests.support.dashboard import Browsing, assert_accessible

pytestmark = pytest.mark.browser

UNLABELLED_FIELD = """<!doctype html><html lang="en"><head><title>Form</title></head>
<body><main><h1>Form</h1><input type="text" name="reason"></main></body></html>"""
LABELLED_FIELD = UNLABELLED_FIELD.replace(
    '<input type="text" name="reason">',
    '<label for="reason">Reason</label><input id="reason" type="text" name="reason">',
)


def test_assert_accessible__on_a_field_without_a_label__fails_naming_the_rule_and_element(
    browsing: Browsing,
) -> None:
    page = browsing.stranger()
    page.set_content(UNLABELLED_FIELD)

    with pytest.raises(AssertionError) as failed:
        assert_accessible(page)

    assert "- label (critical)" in str(failed.value)
    assert 'name="reason"' in str(failed.value)


def test_assert_accessible__on_the_same_field_labelled__passes(browsing: Browsing) -> None:
    page = browsing.stranger()
    page.set_content(LABELLED_FIELD)

    assert_accessible(page)
