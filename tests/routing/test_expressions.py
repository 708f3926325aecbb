"""The routing expression language: parsing, semantics and error positions."""

from __future__ import annotations

import pytest

from omnidesk.routing import ExpressionSyntaxError, compile_expression


def matches(source: str, skills: dict[str, int] | None = None,
            agent: dict[str, object] | None = None,
            contact: dict[str, object] | None = None) -> bool:
    return compile_expression(source).matches(skills or {}, agent or {}, contact or {})


def test_and_of_equality_and_has_over_contact_attributes() -> None:
    source = 'contact.language == "fr" AND contact.product HAS "billing"'
    assert matches(source, contact={"language": "fr", "product": ["billing", "tv"]})
    assert not matches(source, contact={"language": "fr", "product": ["tv"]})
    assert not matches(source, contact={"language": "de", "product": ["billing"]})


def test_skill_proficiency_or_not_flag() -> None:
    source = "skill.billing >= 3 OR NOT contact.vip"
    assert matches(source, skills={"billing": 3}, contact={"vip": True})
    assert matches(source, contact={"vip": False})
    assert not matches(source, skills={"billing": 2}, contact={"vip": True})


def test_missing_skill_counts_as_zero() -> None:
    assert matches("skill.french == 0")
    assert not matches("skill.french > 0")


def test_and_binds_tighter_than_or_and_parentheses_override() -> None:
    assert matches("contact.a == 1 OR contact.b == 1 AND contact.c == 1", contact={"a": 1})
    assert not matches("(contact.a == 1 OR contact.b == 1) AND contact.c == 1",
                       contact={"a": 1})


def test_in_and_not_in_list_literal() -> None:
    assert matches('agent.site IN ["paris", "lyon"]', agent={"site": "lyon"})
    assert not matches('agent.site NOT IN ["paris", "lyon"]', agent={"site": "lyon"})
    assert matches("contact.tier IN [1, 2]", contact={"tier": 2})


def test_every_comparison_operator() -> None:
    contact = {"n": 5}
    for source, expected in [("==", False), ("!=", True), ("<", False), ("<=", False),
                             (">", True), (">=", True)]:
        assert matches(f"contact.n {source} 4", contact=contact) is expected


def test_ordering_between_different_types_is_false_not_an_error() -> None:
    assert not matches('contact.n > "a"', contact={"n": 5})
    assert not matches("contact.missing < 3")


def test_agent_and_contact_attributes_compare_to_each_other() -> None:
    source = "agent.language == contact.language"
    assert matches(source, agent={"language": "fr"}, contact={"language": "fr"})
    assert not matches(source, agent={"language": "de"}, contact={"language": "fr"})


def test_keywords_are_case_insensitive_and_literals_parse() -> None:
    assert matches("contact.vip == true and not contact.blocked", contact={"vip": True})
    assert matches("contact.x == null")
    assert matches("contact.score == 2.5", contact={"score": 2.5})
    assert matches('contact.quote == "say \\"hi\\""', contact={"quote": 'say "hi"'})


def test_top_level_and_terms_become_conjuncts_with_their_namespaces() -> None:
    expression = compile_expression('skill.billing >= 2 AND contact.language == "fr"')
    assert [term.source for term in expression.conjuncts] == [
        "skill.billing >= 2", 'contact.language == "fr"']
    assert [term.uses_contact for term in expression.conjuncts] == [False, True]
    assert expression.uses_contact


@pytest.mark.parametrize(("source", "column", "expected"), [
    ("agent.language ==", 18, "a name, literal, list or '('"),
    ("language == 1", 1, "a name qualified by agent., contact. or skill."),
    ("(agent.x == 1", 14, "')'"),
    ("agent.x == 1 1", 14, "AND, OR, a comparison operator or end of input"),
    ("agent.x @ 1", 9, "a name, literal or operator"),
    ("agent.x IN [1, agent.y]", 16, "a string or number literal in the list"),
    ("agent.x IN [1 2]", 15, "']'"),
])
def test_syntax_error_names_column_and_expectation(
        source: str, column: int, expected: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(source)
    assert caught.value.column == column
    assert expected in caught.value.expected
    assert f"column {column}" in str(caught.value)
