"""PocketBase's filter language: tokens, the syntax tree, and a recursive-descent parser.

    title ~ "hello" && (views > 10 || @request.auth.id = author) // comments run to the line end

Comparisons join with ``&&`` (binds tighter) and ``||``; parentheses group. Operands are
identifiers (``author.name``, ``tags:length``, ``@request.auth.id``, ``@now``), quoted text (single
or double quotes, a backslash escapes the quote), numbers, ``true``/``false``/``null`` and the
functions ``strftime(...)`` and ``geoDistance(...)``. Limits (400 beyond them): 3,500 characters,
200 comparisons, 32 levels of parentheses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_LENGTH = 3500
MAX_EXPRESSIONS = 200
MAX_GROUP_DEPTH = 32
MAX_CALL_DEPTH = 4

OPERATORS = ("?!=", "?>=", "?<=", "?!~", "!=", ">=", "<=", "!~", "?=", "?>", "?<", "?~", "=", ">", "<", "~")
# ASCII only, as PocketBase's lexer: with Unicode classes ``\d`` takes "\u0661" (Arabic-Indic one,
# which float() reads as 1) and ``\w`` takes any letter; both then reached JSON paths (SQLite: 500).
_IDENT = re.compile(r"[@A-Za-z_][\w.:@#]*", re.ASCII)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![\w.])", re.ASCII)
# Space, tab and line breaks only (PocketBase also refuses "\r"; we take it for CRLF text): a
# no-break or ideographic space is not a separator a reader would see.
_BLANKS = frozenset(" \t\n\r")


class FilterSyntaxError(ValueError):
    """The filter text is not a valid expression (or exceeds a limit)."""


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Operand, ...]


Operand = Ident | Text | Number | Call


@dataclass(frozen=True)
class Compare:
    op: str
    left: Operand
    right: Operand

    @property
    def any_of(self) -> bool:
        return self.op.startswith("?")

    @property
    def base_op(self) -> str:
        return self.op.lstrip("?")


@dataclass(frozen=True)
class Logical:
    kind: str  # "and" | "or"
    items: tuple[Node, ...]


Node = Compare | Logical


@dataclass(frozen=True)
class Token:
    kind: str  # ident, text, number, op, and, or, lparen, rparen, comma
    value: str
    pos: int


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_LENGTH:
        raise FilterSyntaxError(f"The filter is longer than {MAX_LENGTH} characters.")
    if "\x00" in source:
        raise FilterSyntaxError("The filter contains a null character.")
    tokens: list[Token] = []
    pos, size = 0, len(source)
    while pos < size:
        char = source[pos]
        if char in _BLANKS:
            pos += 1
        elif source.startswith("//", pos):
            end = source.find("\n", pos)
            pos = size if end < 0 else end + 1
        elif char in "\"'":
            value, pos = _read_text(source, pos)
            tokens.append(Token("text", value, pos))
        elif source.startswith("&&", pos):
            tokens.append(Token("and", "&&", pos))
            pos += 2
        elif source.startswith("||", pos):
            tokens.append(Token("or", "||", pos))
            pos += 2
        elif char == "(":
            tokens.append(Token("lparen", char, pos))
            pos += 1
        elif char == ")":
            tokens.append(Token("rparen", char, pos))
            pos += 1
        elif char == ",":
            tokens.append(Token("comma", char, pos))
            pos += 1
        elif (number := _NUMBER.match(source, pos)) and (char != "-" or _number_allowed(tokens)):
            tokens.append(Token("number", number.group(), pos))
            pos = number.end()
        elif ident := _IDENT.match(source, pos):
            tokens.append(Token("ident", ident.group(), pos))
            pos = ident.end()
        else:
            for op in OPERATORS:
                if source.startswith(op, pos):
                    tokens.append(Token("op", op, pos))
                    pos += len(op)
                    break
            else:
                raise FilterSyntaxError(f"Unexpected character {char!r} at position {pos}.")
    return tokens


def _number_allowed(tokens: list[Token]) -> bool:
    # "-" starts a number only where an operand may start (not right after an operand).
    return not tokens or tokens[-1].kind in ("op", "and", "or", "lparen", "comma")


_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "t": "\t", "n": "\n", "r": "\r"}


def _read_text(source: str, pos: int) -> tuple[str, int]:
    """Quoted text. A backslash escapes a backslash, either quote, and t/n/r (tab, newline,
    carriage return); any other backslash stays as written, as in PocketBase's lexer."""
    quote = source[pos]
    out: list[str] = []
    index = pos + 1
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source) and source[index + 1] in _ESCAPES:
            out.append(_ESCAPES[source[index + 1]])
            index += 2
            continue
        if char == quote:
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise FilterSyntaxError(f"Unterminated text starting at position {pos}.")


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.comparisons = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str) -> Token:
        token = self.peek()
        if token is None or token.kind != kind:
            where = f"at position {token.pos}" if token else "at the end"
            raise FilterSyntaxError(f"Expected {kind} {where}.")
        self.index += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise FilterSyntaxError("The filter is empty.")
        node = self.parse_or(0)
        if self.peek() is not None:
            raise FilterSyntaxError(f"Unexpected {self.peek().value!r} at position {self.peek().pos}.")  # type: ignore[union-attr]
        return node

    def parse_or(self, depth: int) -> Node:
        items = [self.parse_and(depth)]
        while (token := self.peek()) is not None and token.kind == "or":
            self.index += 1
            items.append(self.parse_and(depth))
        return items[0] if len(items) == 1 else Logical("or", tuple(items))

    def parse_and(self, depth: int) -> Node:
        items = [self.parse_primary(depth)]
        while (token := self.peek()) is not None and token.kind == "and":
            self.index += 1
            items.append(self.parse_primary(depth))
        return items[0] if len(items) == 1 else Logical("and", tuple(items))

    def parse_primary(self, depth: int) -> Node:
        token = self.peek()
        if token is not None and token.kind == "lparen":
            if depth >= MAX_GROUP_DEPTH:
                raise FilterSyntaxError(f"Parentheses are nested deeper than {MAX_GROUP_DEPTH} levels.")
            self.index += 1
            node = self.parse_or(depth + 1)
            self.take("rparen")
            return node
        left = self.parse_operand()
        op = self.take("op").value
        right = self.parse_operand()
        self.comparisons += 1
        if self.comparisons > MAX_EXPRESSIONS:
            raise FilterSyntaxError(f"The filter has more than {MAX_EXPRESSIONS} expressions.")
        return Compare(op, left, right)

    def parse_operand(self, depth: int = 0) -> Operand:
        token = self.peek()
        if token is None:
            raise FilterSyntaxError("Expected an operand at the end.")
        self.index += 1
        if token.kind == "text":
            return Text(token.value)
        if token.kind == "number":
            try:
                number = float(token.value)
            except ValueError:
                raise FilterSyntaxError(f"Invalid number {token.value!r}.") from None
            if not math.isfinite(number):
                raise FilterSyntaxError(f"The number {token.value[:20]}... is too large.")
            return Number(number)
        if token.kind == "ident":
            following = self.peek()
            if following is not None and following.kind == "lparen":
                if depth >= MAX_CALL_DEPTH:
                    raise FilterSyntaxError(f"Functions are nested deeper than {MAX_CALL_DEPTH} levels.")
                return self.parse_call(token.value, depth + 1)
            return Ident(token.value)
        raise FilterSyntaxError(f"Unexpected {token.value!r} at position {token.pos}.")

    def parse_call(self, name: str, depth: int) -> Call:
        self.take("lparen")
        args: list[Operand] = []
        token = self.peek()
        if token is not None and token.kind == "rparen":
            self.index += 1
            return Call(name, ())
        while True:
            args.append(self.parse_operand(depth))
            if len(args) > 10:
                raise FilterSyntaxError("A function takes at most 10 arguments.")
            token = self.peek()
            if token is not None and token.kind == "comma":
                self.index += 1
                continue
            self.take("rparen")
            return Call(name, tuple(args))


def parse(source: str) -> Node:
    """The syntax tree of ``source``; raises ``FilterSyntaxError``."""
    return _Parser(tokenize(source)).parse()


def walk_operands(node: Node) -> list[Operand]:
    """Every operand of the tree, left to right (function arguments included)."""
    out: list[Operand] = []

    def visit_operand(operand: Operand) -> None:
        out.append(operand)
        if isinstance(operand, Call):
            for arg in operand.args:
                visit_operand(arg)

    def visit(current: Node) -> None:
        if isinstance(current, Logical):
            for item in current.items:
                visit(item)
        else:
            visit_operand(current.left)
            visit_operand(current.right)

    visit(node)
    return out
