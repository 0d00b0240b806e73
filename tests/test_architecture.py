"""The package graph: services stay out of the HTTP layer, and the domain packages form no
cycle. Every import counts, including function-local ones, because a local import is still a
dependency (it only hides the cycle from the interpreter)."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import helpwire

SRC = Path(helpwire.__file__).parent
DOMAIN = (
    "accounts",
    "groups",
    "presence",
    "tickets",
    "files",
    "topics",
    "search",
    "notify",
    "jobs",
    "mail",
    "sla",
    "rules",
    "reports",
    "views",
    "bulk",
    "audit",
    "rights",
)
# The schema is imported by every service, so it keeps out of the HTTP layer too; it is left
# out of the cycle check because db.models imports every package's tables on purpose.
SERVICES = (*DOMAIN, "db")
HTTP_LAYER = ("helpwire.api", "helpwire.web")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, at any depth, relative imports made absolute."""
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    return _imports_in(path.read_text(), package=package)


def _imports_in(source: str, *, package: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base
            # "from helpwire import api" imports the package helpwire.api; from a module,
            # the names are its attributes and the module itself is the dependency.
            if (SRC.parent / base.replace(".", "/")).is_dir():
                yield from (f"{base}.{alias.name}" for alias in node.names)


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "helpwire" and parts[1] in DOMAIN:
        return parts[1]
    return None


def _domain_modules(packages: tuple[str, ...] = DOMAIN) -> Iterator[tuple[str, Path]]:
    """(package, path) of every module of ``packages`` except the HTTP edge, routes.py."""
    for package in packages:
        for path in sorted((SRC / package).rglob("*.py")):
            if path.name != "routes.py":
                yield package, path


def _is_http_layer(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in HTTP_LAYER)


def test_services_do_not_import_the_http_layer() -> None:
    offending = sorted(
        f"{_module_name(path)} -> {imported}"
        for _package, path in _domain_modules(SERVICES)
        for imported in set(_imports(path))
        if _is_http_layer(imported)
    )
    assert not offending, "domain modules import the HTTP layer:\n" + "\n".join(offending)


def _package_graph() -> dict[str, dict[str, set[str]]]:
    """package -> imported package -> the module-level edges that make the dependency."""
    graph: dict[str, dict[str, set[str]]] = {package: {} for package in DOMAIN}
    for package, path in _domain_modules():
        for imported in set(_imports(path)):
            target = _domain_of(imported)
            if target is not None and target != package:
                edges = graph[package].setdefault(target, set())
                edges.add(f"{_module_name(path)} -> {imported}")
    return graph


def _find_cycle(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """One cycle of packages (first package repeated at the end), or None."""
    done: set[str] = set()

    def visit(package: str, path: list[str]) -> list[str] | None:
        if package in path:
            return [*path[path.index(package) :], package]
        if package in done:
            return None
        for target in sorted(graph[package]):
            cycle = visit(target, [*path, package])
            if cycle is not None:
                return cycle
        done.add(package)
        return None

    for package in DOMAIN:
        cycle = visit(package, [])
        if cycle is not None:
            return cycle
    return None


def test_domain_packages_form_no_cycle() -> None:
    graph = _package_graph()
    cycle = _find_cycle(graph)
    if cycle is None:
        return
    edges = [
        edge
        for source, target in itertools.pairwise(cycle)
        for edge in sorted(graph[source][target])
    ]
    raise AssertionError(
        "domain packages import each other in a cycle: "
        + " -> ".join(cycle)
        + "\n"
        + "\n".join(edges)
    )


def test_the_checks_see_function_local_and_relative_imports() -> None:
    # The graph is only as good as the import reader: it must see what hides in functions.
    source = (
        "def f():\n"
        "    from helpwire.api.metrics import Metrics\n"
        "    import helpwire.web\n"
        "    from ..files import service\n"
        "    from . import models\n"
    )
    found = set(_imports_in(source, package="helpwire.tickets"))
    assert {
        "helpwire.api.metrics",
        "helpwire.web",
        "helpwire.files.service",
        "helpwire.tickets.models",
    } <= found


# What a session is asked for is a query; the web UI leaves those to the services.
QUERY_CALLS = frozenset({"execute", "scalar", "scalars", "get", "stream", "stream_scalars"})


def _queries_in(source: str) -> Iterator[str]:
    """The SQLAlchemy imports a module makes (beyond the session type) and the queries it
    sends through a variable named ``session``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            if node.module != "sqlalchemy.ext.asyncio":
                yield f"line {node.lineno}: from {node.module} import ..."
        elif isinstance(node, ast.Import):
            yield from (
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith("sqlalchemy")
            )
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
            and node.func.attr in QUERY_CALLS
        ):
            yield f"line {node.lineno}: session.{node.func.attr}(...)"


def test_the_web_ui_runs_no_queries_of_its_own() -> None:
    # Pages read and write through the services, so a page and the API cannot disagree on
    # what is read or allowed; the session only passes through web/ (and its transaction
    # is managed there).
    offending = sorted(
        f"{_module_name(path)} {query}"
        for path in (SRC / "web").rglob("*.py")
        for query in _queries_in(path.read_text())
    )
    assert not offending, "web/ runs queries of its own:\n" + "\n".join(offending)


def test_the_query_check_sees_imports_and_session_calls() -> None:
    source = (
        "from sqlalchemy import select\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "async def f(session):\n"
        "    await session.get(X, 1)\n"
        "    await session.flush()\n"
        "    form.get('x')\n"
    )
    assert list(_queries_in(source)) == [
        "line 1: from sqlalchemy import ...",
        "line 4: session.get(...)",
    ]
