"""No import circle anywhere in ``src/``: import-linter's contracts order the
layers, but a circle inside one layer (two pages, two domain siblings) is
only caught here."""

import grimp


def _circles(graph: grimp.ImportGraph) -> list[set[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if not imported.startswith("authgate"):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(group)

    for module in sorted(graph.modules):
        if module.startswith("authgate") and module not in index:
            visit(module)
    return circles


def test_src_has_no_import_circle() -> None:
    assert _circles(grimp.build_graph("authgate")) == []


def test_a_circle_would_be_found() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (
        ("authgate.a", "authgate.b"),
        ("authgate.b", "authgate.c"),
        ("authgate.c", "authgate.a"),
        ("authgate.c", "authgate.d"),
    ):
        graph.add_import(importer=importer, imported=imported)
    assert _circles(graph) == [{"authgate.a", "authgate.b", "authgate.c"}]
