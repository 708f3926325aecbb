"""Routing expressions: a small language over agent and contact attributes.

Grammar (keywords are case-insensitive)::

    expression  := or_expr END
    or_expr     := and_expr ( "OR" and_expr )*
    and_expr    := not_expr ( "AND" not_expr )*
    not_expr    := "NOT" not_expr | comparison
    comparison  := operand [ compare_op operand | "HAS" operand
                             | "IN" operand | "NOT" "IN" operand ]
    compare_op  := "==" | "!=" | "<" | "<=" | ">" | ">="
    operand     := name | string | number | "TRUE" | "FALSE" | "NULL"
                 | list | "(" or_expr ")"
    list        := "[" [ operand ( "," operand )* ] "]"
    name        := ( "agent" | "contact" | "skill" ) "." identifier

``agent.X`` is an attribute of the agent, ``contact.X`` an attribute of the
interaction being routed and ``skill.X`` the agent's proficiency in skill X
(0 when the agent lacks it). Expressions are parsed once into closures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from omnidesk.routing.errors import ExpressionSyntaxError

Skills = Mapping[str, int]
Attributes = Mapping[str, object]
Evaluator = Callable[[Skills, Attributes, Attributes], object]

NAMESPACES = ("agent", "contact", "skill")
KEYWORDS = frozenset({"AND", "OR", "NOT", "HAS", "IN", "TRUE", "FALSE", "NULL"})
COMPARE_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")

_TOKEN_PATTERN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*)
      | (?P<operator>==|!=|<=|>=|<|>)
      | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token with its 1-based column."""

    kind: str
    text: str
    column: int

    def describe(self) -> str:
        """Say what this token is, for an error message."""
        return "end of input" if self.kind == "end" else repr(self.text)


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled routing expression: evaluate with ``matches``."""

    source: str
    namespaces: frozenset[str]
    evaluate: Evaluator = field(repr=False, compare=False)
    conjuncts: tuple[Expression, ...] = field(default=(), repr=False, compare=False)

    @property
    def uses_contact(self) -> bool:
        """True when the result depends on the interaction, not only the agent."""
        return "contact" in self.namespaces

    def matches(self, skills: Skills, agent: Attributes, contact: Attributes) -> bool:
        """Evaluate against an agent's skills and attributes and a contact's attributes."""
        return bool(self.evaluate(skills, agent, contact))


def tokenize(source: str) -> list[Token]:
    """Split source into tokens, raising ExpressionSyntaxError on a stray character."""
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN_PATTERN.match(source, position)
        if match is None:
            raise ExpressionSyntaxError(
                source, position + 1, "a name, literal or operator", repr(source[position]))
        kind = match.lastgroup or ""
        if kind != "space":
            text = match.group()
            if kind == "name" and text.upper() in KEYWORDS:
                kind, text = "keyword", text.upper()
            tokens.append(Token(kind, text, position + 1))
        position = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


def compile_expression(source: str) -> Expression:
    """Parse source once into an Expression (raises ExpressionSyntaxError)."""
    return _Parser(source).parse()


class _Parser:
    """Hand-written recursive-descent parser producing closures."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.used: list[str] = []

    def parse(self) -> Expression:
        """Parse the whole source; a top-level chain of ANDs keeps its terms as conjuncts."""
        terms = [self._parse_term()]
        while self._accept_keyword("AND"):
            terms.append(self._parse_term())
        if self._peek_keyword("OR"):
            alternatives = [_all_of([term.evaluate for term in terms])]
            while self._accept_keyword("OR"):
                alternatives.append(self._parse_and())
            self._expect_end()
            return Expression(self.source, frozenset(self.used), _any_of(alternatives))
        self._expect_end()
        if len(terms) == 1:
            return Expression(self.source, terms[0].namespaces, terms[0].evaluate)
        return Expression(
            self.source, frozenset(self.used), _all_of([t.evaluate for t in terms]), tuple(terms))

    def _parse_term(self) -> Expression:
        """Parse one NOT-level term, remembering its text and the namespaces it reads."""
        first_name, start = len(self.used), self.tokens[self.index].column
        evaluator = self._parse_not()
        end = self.tokens[self.index].column
        text = self.source[start - 1:end - 1].strip()
        return Expression(text, frozenset(self.used[first_name:]), evaluator)

    def _parse_or(self) -> Evaluator:
        alternatives = [self._parse_and()]
        while self._accept_keyword("OR"):
            alternatives.append(self._parse_and())
        return alternatives[0] if len(alternatives) == 1 else _any_of(alternatives)

    def _parse_and(self) -> Evaluator:
        terms = [self._parse_not()]
        while self._accept_keyword("AND"):
            terms.append(self._parse_not())
        return terms[0] if len(terms) == 1 else _all_of(terms)

    def _parse_not(self) -> Evaluator:
        if self._accept_keyword("NOT"):
            inner = self._parse_not()
            return lambda s, a, c: not inner(s, a, c)
        return self._parse_comparison()

    def _parse_comparison(self) -> Evaluator:
        left = self._parse_operand()
        token = self.tokens[self.index]
        if token.kind == "operator":
            self.index += 1
            return _compare(token.text, left, self._parse_operand())
        if self._accept_keyword("HAS"):
            return _has(left, self._parse_operand())
        if self._accept_keyword("IN"):
            return _has(self._parse_operand(), left)
        if self._peek_keyword("NOT") and self._peek_keyword("IN", offset=1):
            self.index += 2
            contains = _has(self._parse_operand(), left)
            return lambda s, a, c: not contains(s, a, c)
        return left

    def _parse_operand(self) -> Evaluator:
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "name":
            return self._name(token)
        if token.kind in ("number", "string") or token.text in ("TRUE", "FALSE", "NULL"):
            return _constant(_literal(token))
        if token.text == "[":
            return self._parse_list()
        if token.text == "(":
            inner = self._parse_or()
            self._expect_punct(")")
            return inner
        self.index -= 1
        raise self._error("a name, literal, list or '('")

    def _parse_list(self) -> Evaluator:
        items: list[object] = []
        if self._accept_punct("]"):
            return _constant(frozenset())
        while True:
            token = self.tokens[self.index]
            if token.kind not in ("number", "string") and token.text not in (
                    "TRUE", "FALSE", "NULL"):
                raise self._error("a string or number literal in the list")
            self.index += 1
            items.append(_literal(token))
            if self._accept_punct("]"):
                return _constant(frozenset(items))
            self._expect_punct(",", also="']'")

    def _name(self, token: Token) -> Evaluator:
        namespace, _, key = token.text.partition(".")
        if namespace not in NAMESPACES or not key:
            raise ExpressionSyntaxError(
                self.source, token.column,
                "a name qualified by agent., contact. or skill.", repr(token.text))
        self.used.append(namespace)
        if namespace == "skill":
            return lambda s, a, c: s.get(key, 0)
        if namespace == "agent":
            return lambda s, a, c: a.get(key)
        return lambda s, a, c: c.get(key)

    def _peek_keyword(self, word: str, offset: int = 0) -> bool:
        token = self.tokens[min(self.index + offset, len(self.tokens) - 1)]
        return token.kind == "keyword" and token.text == word

    def _accept_keyword(self, word: str) -> bool:
        if self._peek_keyword(word):
            self.index += 1
            return True
        return False

    def _accept_punct(self, text: str) -> bool:
        if self.tokens[self.index].text == text and self.tokens[self.index].kind == "punct":
            self.index += 1
            return True
        return False

    def _expect_punct(self, text: str, also: str = "") -> None:
        if not self._accept_punct(text):
            raise self._error(f"'{text}'" + (f" or {also}" if also else ""))

    def _expect_end(self) -> None:
        if self.tokens[self.index].kind != "end":
            raise self._error("AND, OR, a comparison operator or end of input")

    def _error(self, expected: str) -> ExpressionSyntaxError:
        token = self.tokens[self.index]
        return ExpressionSyntaxError(self.source, token.column, expected, token.describe())


def _literal(token: Token) -> object:
    if token.kind == "number":
        return float(token.text) if "." in token.text else int(token.text)
    if token.kind == "string":
        return re.sub(r"\\(.)", r"\1", token.text[1:-1])
    return {"TRUE": True, "FALSE": False, "NULL": None}[token.text]


def _constant(value: object) -> Evaluator:
    return lambda s, a, c: value


def _all_of(terms: list[Evaluator]) -> Evaluator:
    return lambda s, a, c: all(term(s, a, c) for term in terms)


def _any_of(alternatives: list[Evaluator]) -> Evaluator:
    return lambda s, a, c: any(term(s, a, c) for term in alternatives)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _orderable(left: object, right: object) -> bool:
    both_numbers = _is_number(left) and _is_number(right)
    return both_numbers or (isinstance(left, str) and isinstance(right, str))


_ORDERINGS: dict[str, Callable[[object, object], bool]] = {
    "<": lambda x, y: x < y,  # type: ignore[operator]
    "<=": lambda x, y: x <= y,  # type: ignore[operator]
    ">": lambda x, y: x > y,  # type: ignore[operator]
    ">=": lambda x, y: x >= y,  # type: ignore[operator]
}


def _compare(operator: str, left: Evaluator, right: Evaluator) -> Evaluator:
    if operator == "==":
        return lambda s, a, c: left(s, a, c) == right(s, a, c)
    if operator == "!=":
        return lambda s, a, c: left(s, a, c) != right(s, a, c)
    ordering = _ORDERINGS[operator]

    def ordered(s: Skills, a: Attributes, c: Attributes) -> bool:
        x, y = left(s, a, c), right(s, a, c)
        return _orderable(x, y) and ordering(x, y)

    return ordered


def _has(container: Evaluator, item: Evaluator) -> Evaluator:
    def contains(s: Skills, a: Attributes, c: Attributes) -> bool:
        collection = container(s, a, c)
        if not isinstance(collection, list | tuple | set | frozenset):
            return False
        try:
            return item(s, a, c) in collection
        except TypeError:
            return False

    return contains
