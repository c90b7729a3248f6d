"""``shipwise metric templates`` and ``metric define --template`` against a real server:
the table says per source whether it compares arms or only holds a threshold; a define
fills the recipe from --set, and without a terminal a missing setting is exit 2 naming
it (and how to give it), nothing saved."""

from __future__ import annotations

import json

from tests.integration.cli.cli_runner import Shipwise


def test_templates__lists_each_source_with_how_it_judges(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise("metric", "templates", *remote)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    cpu = next(line for line in lines if "cpu" in line and "prometheus" in line)
    assert "threshold only" in cpu
    assert "url, job" in cpu
    errors = next(line for line in lines if "error-rate" in line and " sdk " in line)
    assert "compares arms" in errors
    lcp = next(line for line in lines if "lcp-p75" in line and "vercel" in line)
    assert "threshold only" in lcp
    assert "yes" in lcp  # read from what Vercel's drains deliver
    listed = shipwise.json("metric", "templates", *remote)
    assert {t["name"] for t in listed["templates"]} >= {"cpu", "conversion", "api-p95"}


def test_define__template_with_every_setting__saves_the_filled_query(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise(
        "metric", "define", "api.errors", "--template", "api-5xx-share", "--source",
        "prometheus", "--set", "url=http://127.0.0.1:9", "--set", "job=api", *remote,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"threshold": 0.01' in result.stdout  # the default guardrail, ready to paste
    shown = shipwise.json("metric", "show", "api.errors", *remote)
    assert shown["settings"]["query"] == (
        'sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))'
        ' / sum(rate(http_requests_total{job="api"}[5m]))'
    )


def test_define__template_with_one_source__needs_no_source_option(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    saved = shipwise.json(
        "metric", "define", "signups", "--template", "conversion", "--set", "event=signup",
        *remote,
    )  # fmt: skip
    assert saved["source"] == "sdk"
    assert saved["settings"] == {"event": "signup", "measure": "rate"}


def test_define__template_missing_a_setting_without_a_terminal__exits_2_naming_it(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise(
        "metric", "define", "hosts.cpu", "--template", "cpu", "--source", "prometheus",
        "--set", "url=http://127.0.0.1:9", "--json", *remote,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert "job" in error["message"]
    assert "url" not in error["message"].split("needs")[1]
    assert "--set job=node" in error["hint"]
    assert shipwise("metric", "show", "hosts.cpu", *remote).exit_code == 2


def test_define__template_from_vercel__saves_the_measure_with_its_route(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise(
        "metric", "define", "lcp", "--template", "lcp-p75", "--source", "vercel",
        "--set", "route=/checkout", *remote,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"threshold": 2500' in result.stdout  # the default guardrail, ready to paste
    shown = shipwise.json("metric", "show", "lcp", *remote)
    assert shown["source"] == "vercel"
    assert shown["settings"] == {"measure": "lcp", "route": "/checkout"}


def test_define__template_from_a_source_without_its_recipe__exits_2_naming_the_choices(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise(
        "metric", "define", "home.lcp", "--template", "lcp-p75", "--source", "prometheus",
        *remote,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "vercel" in result.stderr
    assert shipwise("metric", "show", "home.lcp", *remote).exit_code == 2


def test_add__the_word_people_reach_for__defines_a_metric_as_define_does(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    saved = shipwise.json(
        "metric", "add", "tickets", "--template", "tickets-per-hour", "--source", "pushed",
        *remote,
    )  # fmt: skip
    assert saved["source"] == "pushed"
    assert shipwise.json("metric", "show", "tickets", *remote)["source"] == "pushed"
