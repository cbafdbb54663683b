"""The import contract, read from the source: what may import what. A broken rule fails with the
offending import named (file, line, module), so the layering cannot erode one import at a time."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# CLI modules every command may use; a command module never imports another command module.
SHARED_CLI = {"reminder_service.cli.base", "reminder_service.cli.lookup"}


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
            if parts[:2] != ["reminder_service", "cli"]:
                continue
            # "reminder_service.cli.base.parse_received" names the module reminder_service.cli.base
            module = ".".join(parts[:3])
            if module not in SHARED_CLI and module != item.source:
                found.append(item)
    return found


def outside_breaches(paths: list[Path], forbidden_prefix: str) -> list[Import]:
    return [item for path in paths for item in imports(path)
            if item.target == forbidden_prefix or item.target.startswith(forbidden_prefix + ".")]


def test_cli_command_modules_import_only_the_shared_cli_modules() -> None:
    breaches = cli_breaches(modules("reminder_service.cli"))
    assert not breaches, "\n".join(map(str, breaches))


def test_the_calendar_rules_import_nothing_of_the_service() -> None:
    breaches = outside_breaches(modules("calendars"), "reminder_service")
    assert not breaches, "\n".join(map(str, breaches))


def test_the_contract_names_a_wrong_import(tmp_path: Path) -> None:
    """The checks catch what they are for: a command module reaching into another, even lazily."""
    fake = tmp_path / "probe_cmd.py"
    fake.write_text(
        "from reminder_service.cli.base import ViGroup\n"
        "def f():\n"
        "    from reminder_service.cli.outbox_cmd import outbox\n", encoding="utf-8")
    breaches = cli_breaches([fake], {fake: "reminder_service.cli.zz_contract_probe_cmd"})
    assert [str(b) for b in breaches] == [
        "reminder_service.cli.zz_contract_probe_cmd:3 imports reminder_service.cli.outbox_cmd",
        "reminder_service.cli.zz_contract_probe_cmd:3 imports reminder_service.cli.outbox_cmd.outbox",
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
    graph = module_graph("reminder_service", {"reminder_service.db.models": ["reminder_service.db.chat"]})
    assert ["reminder_service.db.chat", "reminder_service.db.models"] in cycles(graph)


# The adapters: how people and other systems reach the service. "notifiers.base" is the port the outbox
# delivers through, so it belongs to the core; the channels behind it are adapters.
ADAPTERS = ("reminder_service.bot", "reminder_service.cli", "reminder_service.notifiers")
PORTS = {"reminder_service.notifiers.base"}
# The process wires adapters to the core, so it may import both.
PROCESS = {"reminder_service.app", "reminder_service.daemon", "reminder_service.leader", "reminder_service.channels",
           "reminder_service.probes", "reminder_service.health", "reminder_service.__main__"}


def _in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def core_breaches(paths: list[Path], names: dict[Path, str] | None = None) -> list[Import]:
    """Core modules (neither an adapter nor the process) importing an adapter, lazily or not."""
    found: list[Import] = []
    for path in paths:
        source = (names or {}).get(path) or module_name(path)
        if _in(source, ADAPTERS) or source in PROCESS:
            continue
        found.extend(item for item in imports(path, source)
                     if _in(item.target, ADAPTERS) and not _in(item.target, tuple(PORTS)))
    return found


def test_the_core_imports_no_adapter() -> None:
    breaches = core_breaches(modules("reminder_service"))
    assert not breaches, "\n".join(map(str, breaches))


def test_a_core_module_reaching_into_the_bot_is_named(tmp_path: Path) -> None:
    """As reconcile once imported the bot's claim rules; the notifier port stays allowed."""
    fake = tmp_path / "probe.py"
    fake.write_text("from reminder_service.notifiers.base import Buttons\n"
                    "from reminder_service.bot.paging import pages\n", encoding="utf-8")
    breaches = core_breaches([fake], {fake: "reminder_service.zz_contract_probe"})
    assert [str(b) for b in breaches] == [
        "reminder_service.zz_contract_probe:2 imports reminder_service.bot.paging",
        "reminder_service.zz_contract_probe:2 imports reminder_service.bot.paging.pages",
    ]


# The pure core: rules, grammar and wording, tested with plain values. No database, no adapter, no service.
DOMAIN = ("reminder_service.status", "reminder_service.datetext", "reminder_service.textfold",
          "reminder_service.periods", "reminder_service.buttons", "reminder_service.escalation",
          "reminder_service.messages", "reminder_service.clock", "reminder_service.errors",
          "reminder_service.redaction")


def domain_breaches(paths: list[Path], names: dict[Path, str] | None = None) -> list[Import]:
    """Domain modules importing the database library or any service module (the ports excepted)."""
    found: list[Import] = []
    for path in paths:
        source = (names or {}).get(path) or module_name(path)
        if not _in(source, DOMAIN):
            continue
        for item in imports(path, source):
            service = _in(item.target, ("reminder_service",)) and not _in(item.target, (*DOMAIN, *PORTS))
            if service or _in(item.target, ("sqlalchemy",)):
                found.append(item)
    return found


def test_the_domain_imports_neither_the_database_nor_the_services() -> None:
    breaches = domain_breaches(modules("reminder_service"))
    assert not breaches, "\n".join(map(str, breaches))


def test_a_domain_module_reading_the_database_is_named(tmp_path: Path) -> None:
    """As messages/summary once took its row type from the SQL read side."""
    fake = tmp_path / "probe.py"
    fake.write_text("from reminder_service.status import StatusRow\n"
                    "from sqlalchemy import select\n"
                    "from reminder_service.readside import status_rows\n", encoding="utf-8")
    breaches = domain_breaches([fake], {fake: "reminder_service.messages.zz_contract_probe"})
    assert [str(b) for b in breaches] == [
        "reminder_service.messages.zz_contract_probe:2 imports sqlalchemy",
        "reminder_service.messages.zz_contract_probe:2 imports sqlalchemy.select",
        "reminder_service.messages.zz_contract_probe:3 imports reminder_service.readside",
        "reminder_service.messages.zz_contract_probe:3 imports reminder_service.readside.status_rows",
    ]
