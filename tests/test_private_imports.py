"""No module of xai reaches into another one's private names: shared helpers live in private
modules (``_scoring``, ``_batching``, ...), whose names are theirs to share."""
import ast
import sys
from pathlib import Path

import pytest

XAI = Path(__file__).resolve().parents[1] / "xai"
MODULES = sorted(XAI.rglob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module(file: Path) -> list[str]:
    """Dotted name of a file under xai/ as a list (a package is its __init__)."""
    parts = list(file.relative_to(XAI.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _absolute(file: Path, node: ast.ImportFrom) -> list[str]:
    """The module an ``import from`` reads from, as a dotted list."""
    if not node.level:
        return (node.module or "").split(".")
    package = _module(file) if file.name == "__init__.py" else _module(file)[:-1]
    base = package[:len(package) - node.level + 1]
    return base + (node.module.split(".") if node.module else [])


def _is_module(parts: list[str]) -> bool:
    path = XAI.parent.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _violations(file: Path) -> list[str]:
    tree = ast.parse(file.read_text(), str(file))
    modules, found = {}, []  # local name -> dotted module of xai bound to it
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "xai":
                    modules[alias.asname or alias.name] = alias.name.split(".")
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(file, node)
            if source[0] != "xai":
                continue
            for alias in node.names:
                target = source + [alias.name]
                if _is_module(target):
                    modules[alias.asname or alias.name] = target
                elif _private(alias.name) and not _private(source[-1]):
                    found.append(f"{node.lineno}: from {'.'.join(source)} import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) \
                and isinstance(node.value, ast.Name) and node.value.id in modules:
            source = modules[node.value.id]
            if source != _module(file) and not _private(source[-1]):
                found.append(f"{node.lineno}: {'.'.join(source)}.{node.attr}")
    return found


@pytest.mark.parametrize("file", MODULES, ids=lambda f: str(f.relative_to(XAI.parent)))
def test_no_module_imports_another_modules_private_names(file):
    assert not _violations(file), (
        f"{file.relative_to(XAI.parent)} uses private names of other xai modules: "
        f"{_violations(file)}. Make the helper public where it belongs, or move it into a "
        "private module (a name starting with '_', e.g. xai/metrics/_scoring.py).")


def test_the_check_catches_the_three_forms(tmp_path, monkeypatch):
    """from .x import _name, from ..x import _name and x._name are caught; _private modules and
    the module's own names are not."""
    package = tmp_path / "xai"
    (package / "sub").mkdir(parents=True)
    for name in ("__init__.py", "a.py", "_priv.py", "sub/__init__.py"):
        (package / name).write_text("")
    (package / "sub" / "b.py").write_text(
        "from ..a import _bad\nfrom . import c\nfrom .. import a, _priv\nfrom .._priv import _ok\n"
        "a._worse\n_priv._fine\n")
    (package / "sub" / "c.py").write_text("from .b import _also_bad\n")
    monkeypatch.setattr(sys.modules[__name__], "XAI", package)
    assert _violations(package / "sub" / "b.py") == ["1: from xai.a import _bad",
                                                     "5: xai.a._worse"]
    assert _violations(package / "sub" / "c.py") == ["1: from xai.sub.b import _also_bad"]
