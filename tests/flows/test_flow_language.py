"""Templates, condition expressions and opening hours: safe data, no code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnidesk.flows import WeeklyHours
from omnidesk.flows.expressions import ExpressionSyntaxError, evaluate, parse_expression
from omnidesk.flows.templates import (
    TemplateSyntaxError,
    render,
    render_data,
    render_url,
    template_paths,
)

SCOPE: dict[str, Any] = {
    "order": {"id": "A/1", "status": "shipped", "items": [{"sku": "x1"}]},
    "count": 3,
    "vip": True,
    "queue": {"support": {"waiting": 12}},
    "tags": ["new", "vip"],
    "name": None,
}


def lookup(parts: tuple[str, ...]) -> Any:
    """Dotted lookup in SCOPE, None when missing."""
    value: Any = SCOPE
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            value = value[int(part)]
        else:
            return None
    return value


def test_render_substitutes_paths_and_blanks_missing_values() -> None:
    text = "{{order.status}} / {{ order.items.0.sku }} / {{ vip }} / [{{ name }}] [{{ nope.x }}]"
    assert render(text, lookup) == "shipped / x1 / true / [] []"


def test_render_never_evaluates_code() -> None:
    with pytest.raises(TemplateSyntaxError):
        template_paths("{{ __import__('os').system('x') }}")
    assert render("{{ count }}", lookup) == "3"


@pytest.mark.parametrize("bad", ["{{ a", "a }}", "{{ a b }}", "{{ }}", "{{ a.}}"])
def test_bad_templates_are_refused(bad: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        template_paths(bad)


def test_url_values_are_percent_encoded_but_the_base_is_not() -> None:
    base = {"api": "https://x.example/v1", "id": "A/1 ?&"}
    url = render_url("{{ api }}/orders/{{ id }}?q={{ id }}", lambda p: base.get(p[0]))
    assert url == "https://x.example/v1/orders/A%2F1%20%3F%26?q=A%2F1%20%3F%26"


def test_render_data_keeps_types_of_lone_placeholders() -> None:
    data = {"n": "{{ count }}", "list": ["{{ vip }}", "n={{ count }}"], "plain": 5}
    assert render_data(data, lookup) == {"n": 3, "list": [True, "n=3"], "plain": 5}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("queue.support.waiting > 10", True),
        ("queue.support.waiting >= 13", False),
        ("count == 3 and vip", True),
        ("not vip or count < 1", False),
        ("order.status in ['shipped', 'delivered']", True),
        ("tags contains 'vip'", True),
        ("order.status contains 'SHIP'", True),
        ("missing.path > 3", False),
        ("missing.path == null", True),
        ("count == '3'", True),
        ("order.status > 3", False),
        ("(count > 1 or vip) and order.id != 'B'", True),
        ("-1 < count", True),
        ('order.status == "shipped"', True),
    ],
)
def test_expressions(expression: str, expected: bool) -> None:
    assert evaluate(parse_expression(expression), lookup) is expected


@pytest.mark.parametrize(
    "bad", ["", "count >", "count > > 1", "(count", "count = 1", "import os", "[1, 2"]
)
def test_bad_expressions_are_refused(bad: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse_expression(bad)


def test_weekly_hours_follow_the_time_zone_and_holidays() -> None:
    hours = WeeklyHours.from_dict(
        {
            "timezone": "Europe/Berlin",
            "mon": ["09:00-12:00", "13:00-17:00"],
            "closed": ["2025-06-09"],
        }
    )
    assert hours.is_open(datetime(2025, 6, 2, 7, 30, tzinfo=UTC))  # 09:30 in Berlin
    assert not hours.is_open(datetime(2025, 6, 2, 10, 30, tzinfo=UTC))  # lunch
    assert not hours.is_open(datetime(2025, 6, 3, 8, 0, tzinfo=UTC))  # Tuesday
    assert not hours.is_open(datetime(2025, 6, 9, 8, 0, tzinfo=UTC))  # a closed Monday


@settings(max_examples=200, database=None, deadline=None)
@given(st.text(max_size=40))
def test_any_text_either_parses_or_is_a_syntax_error(source: str) -> None:
    try:
        expression = parse_expression(source)
    except ExpressionSyntaxError:
        return
    evaluate(expression, lookup)


@settings(max_examples=200, database=None, deadline=None)
@given(st.text(max_size=40))
def test_any_text_renders_or_is_refused(template: str) -> None:
    try:
        template_paths(template)
    except TemplateSyntaxError:
        return
    assert isinstance(render(template, lookup), str)
