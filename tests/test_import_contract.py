"""The import contract, read from the source: what may import what. A broken rule fails with the
offending import named (file, line, module), so the layering cannot erode one import at a time."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# CLI modules every command may use; a command module never imports another command module.
SHARED_CLI = {"reminder_service.adapters.cli.base", "reminder_service.adapters.cli.lookup"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    line: int
    target: str  # the imported module (for "from x import y": x, and x.y when that is a module)

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, source: str | None = None) -> Iterator[Import]:
    """Every import in the file (known as module ``source``), lazy ones inside functions included."""
    source = source or module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(source, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield Import(source, node.lineno, base)
            for alias in node.names:
                yield Import(source, node.lineno, f"{base}.{alias.name}")


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


def cli_breaches(paths: list[Path], names: dict[Path, str] | None = None) -> list[Import]:
    """Command modules importing another command module (or the root that loads them)."""
    found: list[Import] = []
    for path in paths:
        if not path.name.endswith("_cmd.py"):
            continue
        for item in imports(path, (names or {}).get(path)):
            parts = item.target.split(".")
            if parts[:3] != ["reminder_service", "adapters", "cli"]:
                continue
            # "reminder_service.adapters.cli.base.parse_received" names the module ….cli.base
            module = ".".join(parts[:4])
            if module not in SHARED_CLI and module != item.source:
                found.append(item)
    return found


def outside_breaches(paths: list[Path], forbidden_prefix: str) -> list[Import]:
    return [item for path in paths for item in imports(path)
            if item.target == forbidden_prefix or item.target.startswith(forbidden_prefix + ".")]


def test_cli_command_modules_import_only_the_shared_cli_modules() -> None:
    breaches = cli_breaches(modules("reminder_service.adapters.cli"))
    assert not breaches, "\n".join(map(str, breaches))


def test_the_calendar_rules_import_nothing_of_the_service() -> None:
    breaches = outside_breaches(modules("calendars"), "reminder_service")
    assert not breaches, "\n".join(map(str, breaches))


def test_the_contract_names_a_wrong_import(tmp_path: Path) -> None:
    """The checks catch what they are for: a command module reaching into another, even lazily."""
    fake = tmp_path / "probe_cmd.py"
    fake.write_text(
        "from reminder_service.adapters.cli.base import ViGroup\n"
        "def f():\n"
        "    from reminder_service.adapters.cli.outbox_cmd import outbox\n", encoding="utf-8")
    breaches = cli_breaches([fake], {fake: "reminder_service.adapters.cli.zz_contract_probe_cmd"})
    assert [str(b) for b in breaches] == [
        "reminder_service.adapters.cli.zz_contract_probe_cmd:3 imports reminder_service.adapters.cli.outbox_cmd",
        "reminder_service.adapters.cli.zz_contract_probe_cmd:3 imports reminder_service.adapters.cli.outbox_cmd.outbox",
    ]


def top_level_imports(path: Path, source: str | None = None) -> Iterator[Import]:
    """The imports a module runs when it loads: those at its top level (a lazy import inside a
    function is how a module defers a dependency, and runs only once everything has loaded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = {node.lineno for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)}
    yield from (item for item in imports(path, source) if item.line in lines)


def module_graph(package: str, extra: dict[str, list[str]] | None = None) -> dict[str, set[str]]:
    """Module -> the modules of the same tree it imports when it loads."""
    paths = {module_name(p): p for p in modules(package)}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for item in top_level_imports(path):
            if item.target in paths and item.target != name:
                graph[name].add(item.target)
    for name, targets in (extra or {}).items():
        graph.setdefault(name, set()).update(targets)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_round_about() -> None:
    found = cycles(module_graph("reminder_service"))
    assert not found, "import cycles: " + "; ".join(" <-> ".join(group) for group in found)


def test_a_cycle_is_named() -> None:
    """db.models importing db.chat back (as it once did) would be named."""
    models, chat = "reminder_service.services.db.models", "reminder_service.services.db.chat"
    graph = module_graph("reminder_service", {models: [chat]})
    assert [chat, models] in cycles(graph)


# The layers (docs/ARCHITECTURE.md): the domain, the services, the adapters, and the process at the root.
DOMAIN = "reminder_service.domain"
SERVICES = "reminder_service.services"
ADAPTERS = "reminder_service.adapters"


def _in(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def adapter_of(module: str) -> str | None:
    """The adapter a module belongs to: reminder_service.adapters.<this>."""
    if not _in(module, ADAPTERS) or module == ADAPTERS:
        return None
    return module.split(".")[2]


def layer_breaches(paths: list[Path], names: dict[Path, str] | None = None) -> list[Import]:
    """Imports that go against the layers: the domain importing anything but the domain (or the database
    library), the services anything but the domain and services, an adapter another adapter."""
    found: list[Import] = []
    for path in paths:
        source = (names or {}).get(path) or module_name(path)
        # In the order of the source, nested imports (under an if, inside a function) among the others.
        for item in sorted(imports(path, source), key=lambda item: (item.line, item.target)):
            target = item.target
            if _in(source, DOMAIN):
                wrong = _in(target, "sqlalchemy") or (_in(target, "reminder_service") and not _in(target, DOMAIN))
            elif _in(source, SERVICES):
                wrong = _in(target, "reminder_service") and not _in(target, DOMAIN, SERVICES)
            elif adapter_of(source) is not None:
                wrong = adapter_of(target) not in (None, adapter_of(source))
            else:
                wrong = False
            if wrong:
                found.append(item)
    return found


def test_each_layer_imports_only_those_below_it_and_adapters_are_leaves() -> None:
    breaches = layer_breaches(modules("reminder_service"))
    assert not breaches, "\n".join(map(str, breaches))


def test_the_layer_rules_name_wrong_imports(tmp_path: Path) -> None:
    """A domain module reading the database (as messages/summary once took its row type from the read
    side), a service reaching into the bot (as reconcile once imported the bot's claim rules) or naming
    the composition root even for a type (services take a Workspace), the chat bot using the CLI: each
    is named."""
    domain, service, adapter = tmp_path / "domain.py", tmp_path / "service.py", tmp_path / "adapter.py"
    domain.write_text("from reminder_service.domain.status import StatusRow\n"
                      "from sqlalchemy import select\n"
                      "from reminder_service.services.readside import status_rows\n", encoding="utf-8")
    service.write_text("from typing import TYPE_CHECKING\n"
                       "from reminder_service.domain.buttons import Buttons\n"
                       "if TYPE_CHECKING:\n"
                       "    from reminder_service.app import App\n"
                       "from reminder_service.adapters.telegram.paging import paginate\n", encoding="utf-8")
    adapter.write_text("from reminder_service.services.readside import status_rows\n"
                       "from reminder_service.adapters.telegram.paging import paginate\n"
                       "from reminder_service.adapters.cli.base import ViGroup\n", encoding="utf-8")
    names = {domain: f"{DOMAIN}.zz_probe", service: f"{SERVICES}.zz_probe",
             adapter: f"{ADAPTERS}.telegram.zz_probe"}
    assert [str(b) for b in layer_breaches([domain, service, adapter], names)] == [
        f"{DOMAIN}.zz_probe:2 imports sqlalchemy",
        f"{DOMAIN}.zz_probe:2 imports sqlalchemy.select",
        f"{DOMAIN}.zz_probe:3 imports {SERVICES}.readside",
        f"{DOMAIN}.zz_probe:3 imports {SERVICES}.readside.status_rows",
        f"{SERVICES}.zz_probe:4 imports reminder_service.app",
        f"{SERVICES}.zz_probe:4 imports reminder_service.app.App",
        f"{SERVICES}.zz_probe:5 imports {ADAPTERS}.telegram.paging",
        f"{SERVICES}.zz_probe:5 imports {ADAPTERS}.telegram.paging.paginate",
        f"{ADAPTERS}.telegram.zz_probe:3 imports {ADAPTERS}.cli.base",
        f"{ADAPTERS}.telegram.zz_probe:3 imports {ADAPTERS}.cli.base.ViGroup",
    ]
