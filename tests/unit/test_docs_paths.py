"""The docs point at code that exists.

A page that names a module, a function or a test is a map a newcomer follows;
a rename or a removal must fail here rather than leave the map pointing at
nothing. What is checked, in every ``docs/*.md`` and the README:

- repository paths (``src/…``, ``tests/…``, ``benchmarks/…``; anywhere in the
  text, code blocks included) and, in code spans, paths inside the package
  (``domain/refresh_tokens.py``, ``web/pages/``), bare file names (``guard.md``
  is a file of the repository) and link targets;
- ``file::name`` (``tests/unit/util/test_tokens.py::test_digest…``, or
  ``::name`` for the test file named last): the file defines the name;
- dotted names in code spans (``users.begin_sign_in``, ``Database.read()``,
  ``oauth/client_auth.lookup``, ``authgate.guard.fastapi``): when the first
  part is a module, package or class of Authgate, one of them defines the rest
  (``request.state`` names nothing of ours, and ``login.succeeded`` is a string
  the code writes: neither is checked);
- the names in parentheses right after a ``.py`` path
  (`` `domain/authority.py` (`powers`, `require`) ``) are defined in that
  module, at top level or in a class.

The source's own docstrings may name Markdown files too: those must exist.
"""

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "authgate"
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
#: Top-level directories a repository path starts with.
TOP = ("src", "tests", "docs", "benchmarks", "examples", ".ci", "deploy")
#: Suffixes that make a dotted span a file name, not ``module.name``.
FILE_SUFFIXES = {
    *("py", "md", "toml", "lock", "json", "png", "html", "mako", "txt", "db"),
    *("yaml", "service", "env"),
}

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
ROOTED = re.compile(
    r"(?<![\w/.~-])((?:" + "|".join(re.escape(t) for t in TOP) + r")/[\w./-]*[\w/])"
)
PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)*/?")
DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
NAME = re.compile(r"[A-Za-z_]\w*")
PY_FILE = re.compile(r"[\w./-]+\.py\b")
#: ``path.py::name`` (``::Class::test``, ``::test[param]``), as pytest names a test
TEST_ID = re.compile(r"[\w./-]+\.py(?:::[A-Za-z_]\w*(?:\[[^\]]*\])?)+")
#: ``::name`` alone: a test in the file the page named last
SHORT_TEST_ID = re.compile(r"(?:::[A-Za-z_]\w*(?:\[[^\]]*\])?)+")
#: ```domain/authority.py` (`powers`, `require`)``: names the module defines
PATH_THEN_NAMES = re.compile(r"`([\w./-]+\.py)`\s*\(([^()]*)\)")
MD_IN_SOURCE = re.compile(r"(?<![\w/.-])([\w/-]+\.md)\b")


@dataclass(frozen=True)
class Reference:
    page: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


# -- What the repository holds -------------------------------------------------


@functools.cache
def repository_files() -> frozenset[str]:
    """File names anywhere in the repository's own directories."""
    names = {p.name for p in ROOT.iterdir() if p.is_file()}
    for top in TOP:
        names.update(p.name for p in (ROOT / top).rglob("*") if p.is_file())
    return frozenset(names)


@functools.cache
def package_tops() -> frozenset[str]:
    """What a path inside the package starts with: ``domain``, ``app.py`` …"""
    return frozenset(p.name for p in SRC.iterdir() if not p.name.startswith("_"))


@dataclass(frozen=True)
class Module:
    """The names a module defines: at top level (imports included, for
    re-exports), and each class's members."""

    names: frozenset[str]
    classes: dict[str, frozenset[str]]

    def everything(self) -> frozenset[str]:
        return self.names.union(*self.classes.values())


def _targets(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        yield node.target.id
    elif isinstance(node, ast.Import | ast.ImportFrom):
        yield from ((a.asname or a.name).split(".")[0] for a in node.names)


def _instance_attributes(cls: ast.ClassDef) -> Iterator[str]:
    """``self.name = …`` in the class's methods."""
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                yield target.attr


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements at module level, looking inside ``if``/``try`` blocks."""
    for node in body:
        if isinstance(node, ast.If | ast.Try):
            yield from _top_level(node.body + node.orelse)
        else:
            yield node


@functools.cache
def module(path: Path) -> Module:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    classes: dict[str, frozenset[str]] = {}
    for node in _top_level(tree.body):
        names.update(_targets(node))
        if isinstance(node, ast.ClassDef):
            classes[node.name] = frozenset(
                {name for member in node.body for name in _targets(member)}
                | set(_instance_attributes(node))
            )
    return Module(frozenset(names), classes)


def _source_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


@functools.cache
def modules_named(name: str) -> tuple[Path, ...]:
    """Every module file of Authgate whose name is ``name`` (a package counts
    by its ``__init__.py``)."""
    return tuple(
        p
        for p in _source_files()
        if (p.parent.name if p.name == "__init__.py" else p.stem) == name
    )


@functools.cache
def classes_named(name: str) -> tuple[frozenset[str], ...]:
    """The members of every class of Authgate called ``name``."""
    return tuple(
        module(p).classes[name] for p in _source_files() if name in module(p).classes
    )


def module_file(path: Path) -> Path | None:
    """``…/oauth/pkce`` → its ``.py`` file, or the package's ``__init__.py``."""
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


def resolves(path: Path, attributes: list[str]) -> bool:
    """The module at ``path`` defines ``attributes`` (a submodule, a name,
    then a class member)."""
    if not attributes:
        return True
    first, rest = attributes[0], attributes[1:]
    if path.name == "__init__.py" and (sub := module_file(path.parent / first)):
        return resolves(sub, rest)
    found = module(path)
    if first not in found.names:
        return False
    if rest and first in found.classes:
        return rest[0] in found.classes[first] and len(rest) == 1
    return True  # a name further down an imported object is not followed


# -- What a page names ---------------------------------------------------------


def references(page: Path) -> Iterator[tuple[str, Reference]]:
    """``(kind, reference)`` for every checkable mention on the page."""
    page_name = page.relative_to(ROOT).as_posix()
    text = page.read_text()

    def at(offset: int, value: str) -> Reference:
        return Reference(page_name, text.count("\n", 0, offset) + 1, value)

    for match in ROOTED.finditer(text):
        yield "path", at(match.start(), match.group(1))
    for match in LINK.finditer(text):
        target = match.group(1).split("#")[0]
        if target and ":" not in target:
            yield "link", at(match.start(), target)
    prose = FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    last_file = ""
    for match in SPAN.finditer(prose):
        span = match.group(1).strip()
        if SHORT_TEST_ID.fullmatch(span) and last_file:
            span = last_file + span  # `::name`: a test in the file named before
        elif found := PY_FILE.match(span):
            last_file = found.group()
        yield "span", at(match.start(), span)
    for match in PATH_THEN_NAMES.finditer(prose):
        path, names = match.groups()
        for span in SPAN.findall(names):
            member = span.removesuffix("()")
            if NAME.fullmatch(member) or DOTTED.fullmatch(member):
                yield "member", at(match.start(), f"{path}::{member}")


# -- How a mention is checked --------------------------------------------------


def locate(path: str, page: str) -> Path | None:
    """A path as a page writes it: from the repository root, inside the
    package, or (a link) beside the page."""
    stripped = path.rstrip("/")
    first = stripped.split("/")[0]
    if first in TOP or ("/" not in stripped and (ROOT / stripped).is_file()):
        found = ROOT / stripped
    elif first in package_tops():
        found = SRC / stripped
    else:
        found = (ROOT / page).parent / stripped
    return found if found.exists() else None


def problem(kind: str, ref: Reference) -> str | None:
    """Why the mention names nothing, or ``None`` when it is fine (or is not
    a mention of code at all)."""
    value = ref.text.removesuffix("()")
    if kind in ("path", "link"):
        return None if locate(value, ref.page) else "no such file or directory"
    if kind == "member":
        return _check_member(value, ref.page)
    if TEST_ID.fullmatch(value):
        return _check_test_id(value, ref.page)
    if not PATH.fullmatch(value):
        return None
    directory, _, last = value.rpartition("/")
    if DOTTED.fullmatch(last) and last.rsplit(".", 1)[1] not in FILE_SUFFIXES:
        return _check_dotted(directory, last)
    if "/" in value or value.endswith((".py", ".md")):
        return _check_path_span(value, ref.page)
    return None


def _check_test_id(value: str, page: str) -> str | None:
    path, *names = value.split("::")
    found = locate(path, page)
    if found is None:
        return "no such file"
    names = [re.sub(r"\[.*\]$", "", n) for n in names]
    if not resolves(found, names):
        return f"{'.'.join(names)} is not defined in {path}"
    return None


def _check_member(value: str, page: str) -> str | None:
    path, name = value.split("::")
    found = locate(path, page)
    if found is None or not found.is_file():
        return "no such file"
    if "." in name:  # Class.member here, or module.name elsewhere
        if resolves(found, name.split(".")) or _check_dotted("", name) is None:
            return None
    elif name in module(found).everything():
        return None
    return f"{name} is not defined in {path}"


def _check_path_span(value: str, page: str) -> str | None:
    first = value.split("/")[0]
    if "/" not in value:  # a file name: somewhere in the repository
        return None if value in repository_files() else "no file of that name"
    if first in TOP or first in package_tops() or value.endswith((".py", ".md")):
        return None if locate(value, page) else "no such file or directory"
    return None  # application/json, owner/name: not a path of ours


@functools.cache
def source_text() -> str:
    return "\n".join(path.read_text() for path in _source_files())


def is_source_string(value: str) -> bool:
    """``login.succeeded`` or ``org.read`` on a page is a value the code
    writes (an audit action, a permission), not a module's name."""
    return f'"{value}"' in source_text()


def _check_dotted(directory: str, dotted: str) -> str | None:
    if not directory and is_source_string(dotted):
        return None
    first, *attributes = dotted.split(".")
    if directory:
        found = module_file(SRC / directory / first)
        if found is None:
            return f"no module {directory}/{first}"
        return None if resolves(found, attributes) else "not defined there"
    if first == "authgate":
        first, *attributes = attributes
        candidates: tuple[Path, ...] = tuple(
            p for p in [module_file(SRC / first)] if p is not None
        )
        if not candidates:
            return f"no module authgate.{first}"
    else:
        candidates = modules_named(first)
    members = classes_named(first)
    if not candidates and not members:
        return None  # request.state, os.environ: not a name of Authgate's
    if any(resolves(path, attributes) for path in candidates):
        return None
    if len(attributes) == 1 and any(attributes[0] in m for m in members):
        return None
    return "not defined in any module or class of that name"


def all_references() -> list[tuple[str, Reference]]:
    return [found for page in PAGES for found in references(page)]


# -- Tests ----------------------------------------------------------------------


def test_every_path_and_name_the_docs_mention_exists() -> None:
    broken = [
        f"{ref}  ({why})"
        for kind, ref in all_references()
        if (why := problem(kind, ref)) is not None
    ]
    assert not broken, "The docs name what does not exist:\n" + "\n".join(broken)


def test_every_markdown_file_the_source_mentions_exists() -> None:
    missing = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _source_files()
        for name in MD_IN_SOURCE.findall(path.read_text())
        if not (ROOT / name).is_file() and Path(name).name not in repository_files()
    ]
    assert not missing, "The source names Markdown files that are not here:\n" + (
        "\n".join(missing)
    )


def test_the_architecture_page_answers_where_each_rule_lives() -> None:
    """The questions a newcomer asks first have their answer on the map."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    for where in (
        "oauth/pkce.py",
        "domain/refresh_tokens.py",
        "domain/permissions.py",
    ):
        assert f"`{where}`" in page


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("path", "src/authgate/domain/no_such_module.py"),
        ("span", "domain/no_such_module.py"),
        ("span", "web/pages/nowhere/"),
        ("span", "DESIGN.md"),
        ("span", "refresh_tokens.no_such_function"),
        ("span", "oauth/pkce.no_such_function"),
        ("span", "Database.no_such_method()"),
        ("span", "authgate.guard.NoSuchName"),
        ("span", "tests/unit/oauth/test_pkce.py::test_no_such_test"),
        ("span", "oauth/pkce.py::no_such_function"),
        ("member", "domain/permissions.py::no_such_function"),
        ("member", "storage/db.py::Database.no_such_method"),
    ],
)
def test_a_wrong_name_is_caught(kind: str, text: str) -> None:
    assert problem(kind, Reference("docs/architecture.md", 1, text)) is not None


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("path", "src/authgate/domain/refresh_tokens.py"),
        ("span", "domain/refresh_tokens.py"),
        ("span", "web/pages/"),
        ("span", "refresh_tokens.rotate"),
        ("span", "oauth/client_auth.lookup"),
        ("span", "Database.read()"),
        ("span", "authgate.guard.fastapi.CurrentPrincipal"),
        ("span", "audit.Action.REFRESH_REUSED"),
        ("span", "oauth/pkce.py::verify"),
        ("span", "request.state.principal"),
        ("span", "application/json"),
        ("member", "domain/permissions.py::require_owner_for"),
        ("member", "storage/repos/users.py::lock_active_admins"),
        ("member", "storage/db.py::Database.on_audited"),
    ],
)
def test_a_right_name_passes(kind: str, text: str) -> None:
    assert problem(kind, Reference("docs/architecture.md", 1, text)) is None
