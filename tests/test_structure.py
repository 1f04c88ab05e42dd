"""Architecture checks: no import cycles between ecgtf's packages, no script or the gallery
reaching into the trainer."""

import ast
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _modules():
    found = {}
    for folder, _, files in os.walk(os.path.join(ROOT, "ecgtf")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".").removesuffix(".__init__")
                found[module] = path
    return found


def _imports(path):
    """Every ``ecgtf`` module a file imports, at top level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ecgtf"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("ecgtf"))
    return names


def _package(module):
    return ".".join(module.split(".")[:2])


def test_packages_import_each_other_without_cycles():
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        for dep in _imports(path) & set(modules):
            if _package(dep) != _package(module) and _package(dep) != "ecgtf":
                graph.setdefault(_package(module), set()).add(_package(dep))

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph.get(start, ()))

    cycles = sorted(p for p in graph if reaches(p, p))
    assert not cycles, f"import cycles through {cycles}: {graph}"


def test_scripts_and_gallery_do_not_use_the_trainer_helpers():
    users = [os.path.join(ROOT, "scripts", n) for n in os.listdir(os.path.join(ROOT, "scripts")) if n.endswith(".py")]
    users += [os.path.join(ROOT, "ecgtf", "explain", "gallery.py"), os.path.join(ROOT, "ecgtf", "training", "evaluate.py")]
    for path in users:
        if path.endswith("train.py"):
            continue  # scripts/train.py runs the trainer itself
        assert "ecgtf.training.trainer" not in _imports(path), path
