"""A tiny, safe expression language for condition nodes: parsed once, evaluated as data.

Grammar (lowest precedence first)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "contains") operand)?
    operand    := number | 'text' | "text" | true | false | null | path | list | "(" expr ")"
    list       := "[" (operand ("," operand)*)? "]"
    path       := name ("." name_or_index)*
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Lookup = Callable[[tuple[str, ...]], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "contains", "true", "false", "null"}
_COMPARATORS = {"==", "!=", "<", "<=", ">", ">=", "in", "contains"}


class ExpressionSyntaxError(ValueError):
    """An expression could not be parsed."""


@dataclass(frozen=True)
class Constant:
    """A constant: number, text, boolean, null or list."""

    value: Any


@dataclass(frozen=True)
class Path:
    """A dotted reference such as `queue.support.waiting`."""

    parts: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    """A list literal whose items may be paths."""

    items: tuple[Expression, ...]


@dataclass(frozen=True)
class Not:
    """Logical negation."""

    operand: Expression


@dataclass(frozen=True)
class Logical:
    """`and` / `or` over two sub-expressions, short-circuiting."""

    operator: str
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Compare:
    """A comparison of two operands."""

    operator: str
    left: Expression
    right: Expression


Expression = Constant | Path | ListOf | Not | Logical | Compare


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if match is None or match.lastgroup is None:
            raise ExpressionSyntaxError(
                f"unexpected {source[position:].strip()[:10]!r} in expression {source!r}"
            )
        text = match.group(match.lastgroup)
        kind = "keyword" if match.lastgroup == "name" and text in _KEYWORDS else match.lastgroup
        tokens.append(_Token(kind, text))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0

    def parse(self) -> Expression:
        if not self.tokens:
            raise ExpressionSyntaxError("empty expression")
        expression = self.parse_or()
        if self.index != len(self.tokens):
            self.fail(f"unexpected {self.tokens[self.index].text!r}")
        return expression

    def fail(self, message: str) -> None:
        raise ExpressionSyntaxError(f"{message} in expression {self.source!r}")

    def peek(self) -> str | None:
        return self.tokens[self.index].text if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        if self.index >= len(self.tokens):
            self.fail("unexpected end")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.take().text != text:
            self.fail(f"expected {text!r}")

    def parse_or(self) -> Expression:
        left = self.parse_and()
        while self.peek() == "or":
            self.take()
            left = Logical("or", left, self.parse_and())
        return left

    def parse_and(self) -> Expression:
        left = self.parse_not()
        while self.peek() == "and":
            self.take()
            left = Logical("and", left, self.parse_not())
        return left

    def parse_not(self) -> Expression:
        if self.peek() == "not":
            self.take()
            return Not(self.parse_not())
        return self.parse_comparison()

    def parse_comparison(self) -> Expression:
        left = self.parse_operand()
        operator = self.peek()
        if operator in _COMPARATORS:
            self.take()
            return Compare(operator, left, self.parse_operand())
        return left

    def parse_operand(self) -> Expression:
        token = self.take()
        if token.kind == "number":
            number = float(token.text)
            return Constant(
                int(number) if number.is_integer() and "." not in token.text else number
            )
        if token.kind == "string":
            return Constant(token.text[1:-1])
        if token.text in ("true", "false", "null"):
            return Constant({"true": True, "false": False, "null": None}[token.text])
        if token.kind == "name":
            return Path(tuple(token.text.split(".")))
        if token.text == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if token.text == "[":
            return self.parse_list()
        self.fail(f"unexpected {token.text!r}")
        raise AssertionError("unreachable")

    def parse_list(self) -> Expression:
        items: list[Expression] = []
        while self.peek() != "]":
            items.append(self.parse_operand())
            if self.peek() == ",":
                self.take()
            elif self.peek() != "]":
                self.fail("expected ',' or ']'")
        self.take()
        return ListOf(tuple(items))


def parse_expression(source: str) -> Expression:
    """Parse an expression, raising ExpressionSyntaxError with the reason."""
    return _Parser(source).parse()


def evaluate(expression: Expression, lookup: Lookup) -> Any:
    """Evaluate a parsed expression; missing paths are null and never raise."""
    match expression:
        case Constant(value):
            return value
        case Path(parts):
            return lookup(parts)
        case ListOf(items):
            return [evaluate(item, lookup) for item in items]
        case Not(operand):
            return not evaluate(operand, lookup)
        case Logical("and", left, right):
            return bool(evaluate(left, lookup)) and bool(evaluate(right, lookup))
        case Logical(_, left, right):
            return bool(evaluate(left, lookup)) or bool(evaluate(right, lookup))
        case Compare(operator, left, right):
            return compare(operator, evaluate(left, lookup), evaluate(right, lookup))
    raise AssertionError(f"unknown expression {expression!r}")


def compare(operator: str, left: Any, right: Any) -> bool:
    """Compare two values; numeric text counts as a number, a type mismatch is false."""
    left, right = _coerce_pair(left, right)
    if operator == "==":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if operator in ("in", "contains"):
        container, item = (right, left) if operator == "in" else (left, right)
        return _contains(container, item)
    return _order(operator, left, right)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item.casefold() in container.casefold()
    if isinstance(container, list | dict):
        return item in container
    return False


def _order(operator: str, left: Any, right: Any) -> bool:
    both_numbers = _is_number(left) and _is_number(right)
    both_text = isinstance(left, str) and isinstance(right, str)
    if not (both_numbers or both_text):
        return False
    if operator == "<":
        return bool(left < right)
    if operator == "<=":
        return bool(left <= right)
    if operator == ">":
        return bool(left > right)
    return bool(left >= right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    if _is_number(left) and isinstance(right, str):
        return left, _as_number(right)
    if isinstance(left, str) and _is_number(right):
        return _as_number(left), right
    return left, right


def _as_number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text
