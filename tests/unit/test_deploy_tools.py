"""What the deploy tests (``test_deploy_*.py``) read the deployment files with, and its tests.

- ``load_yaml``: the YAML that ``deploy/`` and ``docker-compose.yml`` use (block mappings and
  sequences, one-line flow collections, quoted and plain scalars, ``|``/``>`` block scalars,
  anchors, aliases and ``<<`` merges). PyYAML is not among the project's locked packages;
  anything else raises ``YamlError`` with the line, so a construct this reader does not know
  fails a test instead of being misread. Where PyYAML is importable, a test compares both.
- ``metric_names`` and ``label_names``: the metrics and labels a PromQL expression reads.
- ``exposed_series``: every series name the four services expose, with its label names, read
  from the registries their ``build_runtime`` fills (nothing is started), plus Prometheus' own
  ``up``.
"""

import copy
import functools
import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY_YAML = [
    REPO / "docker-compose.yml",
    *sorted((REPO / "deploy" / "prometheus").glob("*.yml")),
    *sorted((REPO / "deploy" / "grafana").rglob("*.yml")),
]


class YamlError(ValueError):
    pass


# --- YAML ---------------------------------------------------------------------------------

_BLOCK_SCALAR = re.compile(r"^([|>])([+-]?)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_JSON_ESCAPES = set('"\\/bfnrtu')


def load_yaml(text: str) -> Any:
    return _Parser(text).document()


def _strip_comment(text: str) -> str:
    """``text`` without a trailing ``# comment`` (a ``#`` after a space, outside quotes)."""
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote == '"':
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = ""
        elif quote == "'":
            if ch == "'" and text[i + 1 : i + 2] == "'":
                i += 1
            elif ch == "'":
                quote = ""
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
        elif ch in "\"'" and text[:i].rstrip()[-1:] in ("", ":", "-", "[", "{", ","):
            quote = ch
        i += 1
    return text.rstrip()


def _split_entry(text: str) -> tuple[str, str] | None:
    """``key: rest`` → (key, rest); None when ``text`` is not a mapping entry."""
    if text[:1] in "\"'":
        end = _closing_quote(text, 0)
        if end is None or not text[end + 1 :].startswith(":"):
            return None
        after = text[end + 2 :]
        if after and not after.startswith(" "):
            return None
        return _quoted(text[: end + 1]), after.strip()
    if text[:1] in "[{":
        return None
    match = re.search(r":( |$)", text)
    if match is None:
        return None
    return text[: match.start()].strip(), text[match.end() :].strip()


def _closing_quote(text: str, start: int) -> int | None:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'":
                i += 2
                continue
            return i
        i += 1
    return None


def _quoted(token: str) -> str:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    escapes = re.findall(r"\\(.)", token[1:-1])
    if not set(escapes) <= _JSON_ESCAPES:
        raise YamlError(f"unsupported escape in {token}")
    decoded: str = json.loads(token)
    return decoded


def _plain(token: str) -> Any:
    if token in ("", "~", "null", "Null", "NULL"):
        return None
    if token in ("true", "True", "TRUE"):
        return True
    if token in ("false", "False", "FALSE"):
        return False
    if _INT.match(token):
        return int(token)
    if _FLOAT.match(token):
        return float(token)
    if token[:1] in "!%@`|>?&*":
        raise YamlError(f"unsupported plain scalar {token!r}")
    return token


class _Parser:
    def __init__(self, text: str) -> None:
        if "\t" in "".join(line[: len(line) - len(line.lstrip())] for line in text.splitlines()):
            raise YamlError("tabs in indentation")
        self.lines = text.splitlines()
        self.i = 0
        self.anchors: dict[str, Any] = {}

    def fail(self, reason: str) -> YamlError:
        return YamlError(f"line {self.i + 1}: {reason}")

    def peek(self) -> tuple[int, str] | None:
        """The next line with content: its indentation and its text without comment."""
        while self.i < len(self.lines):
            line = self.lines[self.i]
            content = _strip_comment(line.strip())
            if content in ("", "---"):
                self.i += 1
                continue
            if content.startswith(("%", "? ", "...")):
                raise self.fail(f"unsupported: {content}")
            return len(line) - len(line.lstrip(" ")), content
        return None

    def document(self) -> Any:
        first = self.peek()
        if first is None:
            return None
        value = self.block(first[0])
        if self.peek() is not None:
            raise self.fail("content after the document's end (wrong indentation?)")
        return value

    def block(self, indent: int) -> Any:
        peeked = self.peek()
        assert peeked is not None
        if _is_item(peeked[1]):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while (peeked := self.peek()) and peeked[0] == indent and _is_item(peeked[1]):
            line = self.lines[self.i]
            after = line[indent + 1 :]
            rest = _strip_comment(after.strip())
            column = indent + 1 + len(after) - len(after.lstrip(" "))
            if rest == "":
                self.i += 1
                items.append(self.nested(indent, allow_sequence=False))
            elif _is_item(rest) or _split_entry(rest) is not None:
                # "- key: value" (or "- - x"): a node that starts at the item's column
                self.lines[self.i] = " " * column + after.lstrip(" ")
                items.append(self.block(column))
            else:
                self.i += 1
                items.append(self.inline(rest, indent))
        if peeked is not None and peeked[0] > indent:
            raise self.fail("unexpected indentation in a sequence")
        return items

    def mapping(self, indent: int) -> dict[str, Any]:
        explicit: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        while (peeked := self.peek()) and peeked[0] == indent and not _is_item(peeked[1]):
            entry = _split_entry(peeked[1])
            if entry is None:
                raise self.fail(f"expected `key: value`, got {peeked[1]!r}")
            key, rest = entry
            self.i += 1
            anchor = None
            if rest.startswith("&"):
                anchor, _, rest = rest[1:].partition(" ")
                rest = rest.strip()
            if rest == "":
                value = self.nested(indent, allow_sequence=True)
            elif _BLOCK_SCALAR.match(rest):
                value = self.block_scalar(rest, indent)
            else:
                value = self.inline(rest, indent)
            if anchor:
                self.anchors[anchor] = value
            if key == "<<":
                for source in value if isinstance(value, list) else [value]:
                    if not isinstance(source, dict):
                        raise self.fail("`<<` merges mappings only")
                    merged = {**source, **merged}
            elif key in explicit:
                raise self.fail(f"duplicate key {key!r}")
            else:
                explicit[key] = value
        if peeked is not None and peeked[0] > indent:
            raise self.fail("unexpected indentation in a mapping")
        return {**merged, **explicit}

    def nested(self, indent: int, *, allow_sequence: bool) -> Any:
        """The block under a key or ``-`` with nothing after it (null if there is none)."""
        peeked = self.peek()
        if peeked is None:
            return None
        deeper = peeked[0] > indent
        same_level_items = allow_sequence and peeked[0] == indent and _is_item(peeked[1])
        return self.block(peeked[0]) if deeper or same_level_items else None

    def inline(self, text: str, indent: int) -> Any:
        """A value on the rest of its line: a scalar, a flow collection or an alias."""
        if text.startswith("*"):
            name = text[1:]
            if name not in self.anchors:
                raise self.fail(f"unknown alias *{name}")
            value = copy.deepcopy(self.anchors[name])
        elif text[:1] in "[{":
            value, after = _Flow(text, self.fail).node(0)
            if text[after:].strip():
                raise self.fail(f"text after a flow collection: {text[after:]!r}")
        elif text[:1] in "\"'":
            end = _closing_quote(text, 0)
            if end is None or text[end + 1 :].strip():
                raise self.fail(f"a quoted scalar must end its line: {text!r}")
            value = _quoted(text)
        elif ": " in text:
            raise self.fail(f"': ' in a plain scalar (quote it): {text!r}")
        else:
            value = _plain(text)
        following = self.peek()
        if (
            following is not None
            and following[0] > indent
            and not _is_item(following[1])
            and _split_entry(following[1]) is None
        ):
            raise self.fail("multi-line plain or quoted scalars are not supported")
        return value

    def block_scalar(self, header: str, indent: int) -> str:
        match = _BLOCK_SCALAR.match(header)
        assert match is not None
        style, chomping = match.groups()
        body: list[str] = []
        column = None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() == "":
                body.append("")
                self.i += 1
                continue
            here = len(line) - len(line.lstrip(" "))
            if column is None:
                if here <= indent:
                    break
                column = here
            if here < column:
                break
            body.append(line[column:])
            self.i += 1
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        if style == "|":
            text = "\n".join(body)
        else:
            if any(line.startswith(" ") for line in body):
                raise self.fail("more-indented lines in a folded scalar are not supported")
            text = ""
            for n, line in enumerate(body):
                if n == 0 or line == "":
                    text += line if n == 0 else "\n"
                else:
                    text += line if body[n - 1] == "" else " " + line
        if not body or chomping == "-":
            return text
        return text + "\n" * (1 + trailing if chomping == "+" else 1)


def _is_item(text: str) -> bool:
    return text == "-" or text.startswith("- ")


class _Flow:
    """A one-line flow collection: ``[a, "b", {c: d}]``."""

    def __init__(self, text: str, fail: Callable[[str], YamlError]) -> None:
        self.text = text
        self.fail = fail

    def skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] == " ":
            i += 1
        return i

    def node(self, i: int) -> tuple[Any, int]:
        i = self.skip(i)
        opener = self.text[i : i + 1]
        if opener in ("[", "{"):
            closer = "]" if opener == "[" else "}"
            items: list[Any] = []
            pairs: dict[str, Any] = {}
            i = self.skip(i + 1)
            while self.text[i : i + 1] != closer:
                if i >= len(self.text):
                    raise self.fail(f"unclosed {opener} (multi-line flow collections unsupported)")
                if opener == "{":
                    key, i = self.scalar(i, key=True)
                    i = self.skip(i)
                    if self.text[i : i + 1] != ":":
                        raise self.fail(f"expected ':' in {self.text!r}")
                    pairs[str(key)], i = self.node(i + 1)
                else:
                    item, i = self.node(i)
                    items.append(item)
                i = self.skip(i)
                if self.text[i : i + 1] == ",":
                    i = self.skip(i + 1)
                elif self.text[i : i + 1] != closer:
                    raise self.fail(f"expected ',' or {closer!r} in {self.text!r}")
            return (pairs if opener == "{" else items), i + 1
        return self.scalar(i)

    def scalar(self, i: int, key: bool = False) -> tuple[Any, int]:
        if self.text[i : i + 1] in ("'", '"'):
            end = _closing_quote(self.text, i)
            if end is None:
                raise self.fail(f"unclosed quote in {self.text!r}")
            return _quoted(self.text[i : end + 1]), end + 1
        if self.text[i : i + 1] == "*":
            raise self.fail("aliases inside flow collections are not supported")
        stops = re.compile(r":(?=[ ,\]}])|[,\]}]" if key else r"[,\]}]")
        match = stops.search(self.text, i)
        end = match.start() if match else len(self.text)
        token = self.text[i:end].strip()
        if not key and re.search(r": ", token):
            raise self.fail(f"single-pair mappings in flow sequences are not supported: {token}")
        return (token if key else _plain(token)), end


# --- PromQL ---------------------------------------------------------------------------------

_PROMQL_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "inf",
    "nan",
}
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
_MATCHERS = re.compile(r"\{([^{}]*)\}")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (not its functions, keywords or labels)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)  # ranges, subqueries, Grafana's $__range
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*(?![\w(])", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in _PROMQL_KEYWORDS:
            names.add(match.group())
    return names


def label_names(expr: str) -> set[str]:
    """The label names an expression matches on or groups by."""
    text = _STRING.sub('""', expr)
    labels = set()
    for matchers in _MATCHERS.findall(text):
        labels |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    for _, names in _GROUPING.findall(text):
        labels |= {name.strip() for name in names.split(",") if name.strip()}
    return labels


# --- what the services expose ---------------------------------------------------------------

# Prometheus' own series for each target, and the labels it attaches to every scraped one.
PROMETHEUS_SERIES = {"up": frozenset({"job", "instance"})}
TARGET_LABELS = frozenset({"job", "instance"})
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


@functools.cache
def exposed_series() -> dict[str, frozenset[str]]:
    """Each series name the services expose (FastStream's metrics included) → its labels."""
    series = dict(PROMETHEUS_SERIES)
    for service in ("intake", "scoring", "notifier", "export"):
        app = importlib.import_module(f"services.{service}.app")
        settings = importlib.import_module(f"services.{service}.settings")
        settings_class = getattr(settings, f"{service.capitalize()}Settings")
        registry = app.build_runtime(settings_class()).registry
        for family in registry.collect():
            # prometheus_client keeps a metric's label names only on the metric object.
            labels = frozenset(registry._names_to_collectors[family.name]._labelnames)
            for suffix in _SUFFIXES[family.type]:
                extra = {"le"} if suffix == "_bucket" else set()
                name = family.name + suffix
                series[name] = series.get(name, frozenset()) | labels | extra | TARGET_LABELS
    return series


def unknown_metrics(expr: str) -> set[str]:
    return metric_names(expr) - exposed_series().keys()


def unknown_labels(expr: str) -> set[str]:
    """Labels the expression uses that none of its metrics has."""
    known = set().union(*(exposed_series().get(name, set()) for name in metric_names(expr)))
    return label_names(expr) - known


# --- tests of the above ---------------------------------------------------------------------


def test_yaml_reader_reads_what_the_deploy_files_use() -> None:
    text = """\
# a comment
x-base: &base
  image: app  # trailing comment
  ports: ["8080:8080", 9090]
  env: {A: "1", B: b}
web:
  <<: *base
  image: other
  command:
    - run
    - --url=http://h:1/#anchor
  test: ["CMD", "python", "-c", "print('a#b')"]
  empty: ""
  nothing:
  flag: false
  ratio: 0.8
  quoted: 'it''s'
  escaped: "tab\\tthen \\"quote\\" \\u0e01"
  text: it's plain, with a:colon
items:
- name: a
  expr: |
    sum(x)
    > 0
  note: >-
    folded
    text

    next
- b
"""
    assert load_yaml(text) == {
        "x-base": {
            "image": "app",
            "ports": ["8080:8080", 9090],
            "env": {"A": "1", "B": "b"},
        },
        "web": {
            "image": "other",
            "ports": ["8080:8080", 9090],
            "env": {"A": "1", "B": "b"},
            "command": ["run", "--url=http://h:1/#anchor"],
            "test": ["CMD", "python", "-c", "print('a#b')"],
            "empty": "",
            "nothing": None,
            "flag": False,
            "ratio": 0.8,
            "quoted": "it's",
            "escaped": 'tab\tthen "quote" ก',
            "text": "it's plain, with a:colon",
        },
        "items": [{"name": "a", "expr": "sum(x)\n> 0\n", "note": "folded text\nnext"}, "b"],
    }


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\n",  # multi-line flow collection
        "a: b\n  c\n",  # plain scalar continued on the next line
        "a: 1\na: 2\n",
        "a: *missing\n",
        "a: !!str 1\n",
        "a:\n\tb: 1\n",
        "? complex key\n",
        "a: 1\n  b: 2\n",
        "a: b: c\n",
    ],
)
def test_yaml_reader_refuses_what_it_does_not_know(text: str) -> None:
    with pytest.raises(YamlError):
        load_yaml(text)


def test_yaml_reader_agrees_with_pyyaml_on_every_deploy_file() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: nothing to compare with")
    for path in DEPLOY_YAML:
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text) == yaml.safe_load(text), path


def test_metric_and_label_names_of_an_expression() -> None:
    expr = (
        'sum by (service, topic) (increase(gecc_dead_letters_total{reason!="x"}[15m])) > 0 or '
        "sum by (service) (gecc_dead_letters_total unless gecc_dead_letters_total offset 15m)"
        " and on (round) max(gecc_round_seconds_to_due) < 3 * 86400 and "
        "histogram_quantile(0.95, sum by (le) (rate(h_bucket[$__rate_interval]))) > 1e3 and "
        'label_replace(up{job=~"a|b"}, "x", "$1", "job", "(.*)")'
    )
    assert metric_names(expr) == {
        "gecc_dead_letters_total",
        "gecc_round_seconds_to_due",
        "h_bucket",
        "up",
    }
    assert label_names(expr) == {"service", "topic", "reason", "round", "le", "job"}


def test_exposed_series_come_from_the_services_registries() -> None:
    series = exposed_series()
    assert series["gecc_outbox_backlog"] >= {"service", "job", "instance"}
    assert series["gecc_dead_letters_total"] >= {"service", "topic", "reason"}
    assert series["gecc_export_mismatch"] >= {"round_id"}
    assert series["gecc_scoring_duration_seconds_bucket"] >= {"le"}
    assert "gecc_received_messages_total" in series  # FastStream's, registered up front
    assert "gecc_dead_letters" not in series  # a counter is exposed as ..._total only
