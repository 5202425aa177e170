"""The import graph of a package, for the layout tests: every import statement of
every module (inside functions too: an import moved into a function to dodge a
circle is still a circle), resolved to the package's own modules."""
from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["modules", "import_graph", "cycles", "subpackage"]


def modules(root: Path) -> dict:
    """{dotted module name: path} for every ``.py`` file under the package ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _targets(name, path, node, known):
    """The package modules one import statement brings in."""
    if isinstance(node, ast.Import):
        candidates = [a.name for a in node.names]
    else:
        base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        if node.level:
            base = base[:len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        # `from pkg import sub` brings in the submodule; `from mod import name` the module itself
        candidates = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
    out = set()
    for target in candidates:
        while target and target not in known and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in known and target != name:
            out.add(target)
    return out


def import_graph(root: Path) -> dict:
    """{module: set of the package's modules it imports} (``from . import x`` counts x)."""
    known = modules(root)
    graph = {}
    for name, path in known.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _targets(name, path, node, known)
        graph[name] = edges
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def subpackage(module: str, package: str) -> str:
    """``autograd_np.core.tensor`` -> ``core``; a top-level module -> its own name."""
    rest = module[len(package) + 1:] if module != package else ""
    return rest.split(".")[0] if rest else ""
