"""The package's imports read as its layers, top to bottom, with no cycle:
front ends (cli, web, batch) → app → report → validate/solve/check → io → contract."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "selector"
# Each layer may import the layers after it in this list (and itself), never those before.
LAYERS = ["front", "app", "report", "validate", "solve", "check", "io", "contract", "base"]
FRONT_ENDS = {"cli", "web", "batch", "launch", "__main__"}
# What a front end may use besides `app`: the contract (error types, rules as data) and
# presentation helpers.
FRONT_END_MAY_IMPORT = {"app", "contract", "batch", "report.render", "stopping", "base"}
PURE = {"validate", "solve", "check", "contract"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__") or "base"


def layer(module: str) -> str:
    top = module.split(".")[0]
    if top in FRONT_ENDS:
        return "front"
    if top == "stopping":  # process-wide stop handling, offered to the front ends by app
        return "app"
    return top if top in LAYERS else "base"


def selector_imports(path: Path) -> list[str]:
    """The selector modules a file imports (absolute names without `selector.`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                target = ".".join([*base, node.module] if node.module else base)
                names = [target] if node.module else [_submodule_or_package(target, a.name) for a in node.names]
                found += [n or "base" for n in names]
            elif node.module and node.module.startswith("selector"):
                found.append(node.module.removeprefix("selector").strip(".") or "base")
        elif isinstance(node, ast.Import):
            found += [a.name.removeprefix("selector.") for a in node.names if a.name.startswith("selector")]
    return found + _lazy_imports(tree, package)


def _lazy_imports(tree: ast.Module, package: list[str]) -> list[str]:
    """What a lazy face (`_FROM = {name: ".module" or (".module", "name")}`, imported on first use)
    will import: held to the layers like any import."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "_FROM" for t in targets) and node.value is not None:
                for constant in ast.walk(node.value):
                    if isinstance(constant, ast.Constant) and str(constant.value).startswith("."):
                        relative = str(constant.value)
                        level = len(relative) - len(relative.lstrip("."))
                        base = package[: len(package) - level + 1] if level > 1 else package
                        found.append(".".join([*base, relative.lstrip(".")]))
    return found


def _submodule_or_package(package: str, name: str) -> str:
    """`from . import X`: X is a module when a file or folder has its name, else the package's attribute."""
    folder = PACKAGE.joinpath(*[p for p in package.split(".") if p])
    if (folder / f"{name}.py").exists() or (folder / name).is_dir():
        return f"{package}.{name}".strip(".")
    return package or "base"


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path: Path) -> None:
    here = layer(module_name(path))
    for target in selector_imports(path):
        there = layer(target)
        assert LAYERS.index(there) >= LAYERS.index(here), f"{module_name(path)} imports {target} (a higher layer)"


@pytest.mark.parametrize("path", [p for p in SOURCES if layer(module_name(p)) == "front"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_front_ends_use_only_the_application_layer(path: Path) -> None:
    for target in selector_imports(path):
        allowed = any(target == name or target.startswith(name + ".") for name in FRONT_END_MAY_IMPORT)
        assert allowed or layer(target) == "front", f"{module_name(path)} reaches past app: imports {target}"


@pytest.mark.parametrize("path", [p for p in SOURCES if layer(module_name(p)) in PURE],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_layers_touch_no_files_or_front_end_library(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                 and not n.level}
    assert not imported & {"click", "flask", "werkzeug", "shutil", "tempfile", "os"}, path.name
    assert "--" + "relax" not in text and "--" + "time-limit" not in text and "--" + "size" not in text, (
        f"{path.name} names a command-line flag; say it in the domain's words")
    for target in selector_imports(path):
        if layer(target) == "io":
            assert target == "io.tables", f"{module_name(path)} uses io beyond the table type: {target}"


def test_no_import_cycle() -> None:
    graph = {module_name(p): {t for t in selector_imports(p)} for p in SOURCES}
    modules = set(graph)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges = {m: {r for t in ts if (r := resolve(t)) and r != m} for m, ts in graph.items()}
    # a package's face (__init__) re-exporting its own modules is not a cycle of layers
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack, node, nxt]))
            if nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [])


BELOW_FRONT_ENDS = {"validate", "solve", "check", "io", "contract"}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _strings(tree: ast.Module) -> list[ast.Constant]:
    """The module's string constants, docstrings left out (they may name a flag to explain)."""
    documented = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, documented) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("path", [p for p in SOURCES if layer(module_name(p)) in BELOW_FRONT_ENDS],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_messages_below_the_front_ends_name_no_flag(path: Path) -> None:
    """An error or a fix from a reader reaches the web page as well as the terminal: it asks for "a
    mapping file", and each front end says how to give one there. A flag may be named only in the
    comments of a file written for command-line use (the TOML `default-rules` prints) or where the
    text says it is the command line's."""
    for node in _strings(ast.parse(path.read_text(encoding="utf-8"))):
        text = node.value
        if not FLAG.search(text) or text.lstrip().startswith("#") or "on the command line" in text:
            continue
        raise AssertionError(f"{path.name}:{node.lineno} names a flag ({FLAG.search(text).group()}) in {text!r}; "
                             "say it in the domain's words and let the front ends give their hint")
