"""A strict reader of the Prometheus text exposition format 0.0.4, for tests:
it fails on anything a Prometheus server would refuse (and on a few things it
would merely frown at), instead of guessing."""

import math
import re
from dataclasses import dataclass, field

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}

Labels = frozenset[tuple[str, str]]


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str | None = None
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)


def parse(text: str) -> dict[str, Family]:
    """Every metric family by name. Raises ``ValueError`` on any violation."""
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a line feed")
    families: dict[str, Family] = {}
    current: Family | None = None
    finished: set[str] = set()
    for number, line in enumerate(text[:-1].split("\n"), 1):
        if not line:
            raise ValueError(f"line {number}: empty line")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                raise ValueError(f"line {number}: unexpected comment {line!r}")
            name = parts[2]
            if not _NAME.fullmatch(name):
                raise ValueError(f"line {number}: bad metric name {name!r}")
            if name in finished:
                raise ValueError(f"line {number}: {name} appears twice")
            if current is None or current.name != name:
                if current is not None:
                    finished.add(current.name)
                if current is not None and current.samples:
                    _check(current)
                current = families.setdefault(name, Family(name))
            text_part = parts[3] if len(parts) == 4 else ""
            if parts[1] == "TYPE":
                if current.samples or text_part not in _TYPES:
                    raise ValueError(f"line {number}: bad TYPE line {line!r}")
                current.type = text_part
            else:
                current.help = text_part
            continue
        name, labels, value = _sample(line, number)
        if current is None or not _belongs(name, current):
            raise ValueError(f"line {number}: {name} outside its family")
        key = (name, labels)
        if key in current.samples:
            raise ValueError(f"line {number}: duplicate series {line!r}")
        current.samples[key] = value
    if current is not None:
        _check(current)
    return families


def value(families: dict[str, Family], name: str, **labels: str) -> float:
    """The value of one series (its family found by the sample name)."""
    for family in families.values():
        found = family.samples.get((name, frozenset(labels.items())))
        if found is not None:
            return found
    raise KeyError(f"{name} {labels}")


def _belongs(name: str, family: Family) -> bool:
    if family.type == "histogram":
        return name in {f"{family.name}{s}" for s in ("_bucket", "_sum", "_count")}
    return name == family.name


def _sample(line: str, number: int) -> tuple[str, Labels, float]:
    match = _NAME.match(line)
    if match is None:
        raise ValueError(f"line {number}: no metric name in {line!r}")
    name, rest = match.group(), line[match.end() :]
    labels: dict[str, str] = {}
    if rest.startswith("{"):
        rest = rest[1:]
        while not rest.startswith("}"):
            label = _LABEL.match(rest)
            if label is None or rest[label.end() : label.end() + 2] != '="':
                raise ValueError(f"line {number}: bad label in {line!r}")
            rest = rest[label.end() + 2 :]
            text, rest = _quoted(rest, number)
            if label.group() in labels:
                raise ValueError(f"line {number}: label repeated in {line!r}")
            labels[label.group()] = text
            if rest.startswith(","):
                rest = rest[1:]
            elif not rest.startswith("}"):
                raise ValueError(f"line {number}: bad label list in {line!r}")
        rest = rest[1:]
    if not rest.startswith(" ") or " " in rest[1:]:
        raise ValueError(f"line {number}: expected one value in {line!r}")
    number_text = rest[1:]
    try:
        parsed = float(number_text)
    except ValueError:
        raise ValueError(f"line {number}: bad value {number_text!r}") from None
    if math.isinf(parsed) and number_text not in ("+Inf", "-Inf"):
        raise ValueError(f"line {number}: write infinity as +Inf or -Inf")
    return name, frozenset(labels.items()), parsed


def _quoted(rest: str, number: int) -> tuple[str, str]:
    out: list[str] = []
    index = 0
    while index < len(rest):
        char = rest[index]
        if char == '"':
            return "".join(out), rest[index + 1 :]
        if char == "\n":
            raise ValueError(f"line {number}: raw line feed in a label value")
        if char == "\\":
            escaped = rest[index + 1 : index + 2]
            if escaped not in _ESCAPES:
                raise ValueError(f"line {number}: bad escape \\{escaped}")
            out.append(_ESCAPES[escaped])
            index += 2
            continue
        out.append(char)
        index += 1
    raise ValueError(f"line {number}: unterminated label value")


def _check(family: Family) -> None:
    if family.type == "counter":
        for (_name, labels), number in family.samples.items():
            if number < 0:
                raise ValueError(f"{family.name} {dict(labels)}: negative counter")
    if family.type != "histogram":
        return
    series: dict[Labels, list[tuple[float, float]]] = {}
    for (name, labels), number in family.samples.items():
        if name.endswith("_bucket"):
            rest = dict(labels)
            bound = rest.pop("le")
            series.setdefault(frozenset(rest.items()), []).append(
                (float(bound), number)
            )
    for labels, buckets in series.items():
        bounds = [b for b, _ in buckets]
        counts = [c for _, c in buckets]
        if bounds != sorted(bounds) or bounds[-1] != math.inf:
            raise ValueError(f"{family.name} {dict(labels)}: bad buckets {bounds}")
        if counts != sorted(counts):
            raise ValueError(f"{family.name} {dict(labels)}: not cumulative {counts}")
        count = family.samples.get((f"{family.name}_count", labels))
        if count != counts[-1] or (f"{family.name}_sum", labels) not in family.samples:
            raise ValueError(f"{family.name} {dict(labels)}: _count/_sum wrong")
