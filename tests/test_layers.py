"""The layers point one way (issue 14), read from the source with `ast` (nothing is imported):

    apispec         the kernel: imports no other package of the project
    mockserver      imports apispec, never contract_tests or specdiff
    contract_tests  imports apispec, never mockserver (the harness judges any server over HTTP)
    specdiff        imports apispec only

and code outside apispec/ reads an `x-` extension only through apispec.ext: no string literal that
is an extension key of the specs (`"x-unique"`), no f-string or concatenation building one
(`f"x-{name}"`, `"x-" + name`), no `.ext(` call. Header names such as `x-ratelimit-limit` are not
extension keys of any spec, so they pass.

Each check is a function over source text, and each is shown failing on a small violation below,
so a check that stopped finding anything would fail here too.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("apispec", "mockserver", "contract_tests", "specdiff")

# What each package may not import (the project's packages only; the standard library and the
# dependencies are anyone's).
FORBIDDEN = {
    "apispec": {"mockserver", "contract_tests", "specdiff"},
    "mockserver": {"contract_tests", "specdiff"},
    "contract_tests": {"mockserver"},
    "specdiff": {"mockserver", "contract_tests"},
}

# Files outside apispec/ that still read extensions directly, each waiting for a branch that
# rewrites it. The list only shrinks: a file listed here that no longer offends fails the test
# (take it off). Empty it when those branches land.
KNOWN_OFFENDERS: dict[str, str] = {}

# Tests that must name an extension key: they build or change a spec, or check text that names one.
# Not a shrinking list, but a file here that no longer names one fails the test as well.
TESTS_THAT_MUST_NAME_KEYS = {
    "tests/test_deviations.py": "builds schemas with x-inferred marks for the spec linter",
    "tests/harness/test_identity_kept.py": "takes x-slug off a spec to make a schema that is not ours",
    "tests/harness/test_verdicts.py": "checks that the report names x-inferred as the reason of a deviation",
    "tests/diff/test_rules.py": "builds spec pairs that change x-access, x-rate-limit, x-error-body and x-sunset",
    "tests/diff/test_output.py": "builds spec pairs with x-sunset dates",
}

# The harness's own tests start a mock to judge; they may use only the mock's way of being started.
HARNESS_TESTS_MAY_IMPORT = {"mockserver.app", "mockserver.testing"}


# --- what the checks read -----------------------------------------------------------------------

def _keys(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("x-"):
                found.add(key)
            _keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _keys(value, found)
    return found


def extension_keys() -> frozenset[str]:
    """Every `x-` key the specs use, and every one apispec/ext reads (`value(node, "name")`)."""
    found: set[str] = set()
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        _keys(yaml.safe_load(path.read_text(encoding="utf-8")), found)
    for path in sorted((ROOT / "apispec" / "ext").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "value"
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str)):
                found.add("x-" + node.args[1].value)
    return frozenset(found)


EXTENSIONS = extension_keys()


def _module_name(path: pathlib.Path) -> tuple[str, bool]:
    """(dotted module name, whether it is a package's __init__) of a file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _dynamic_import(node: ast.Call) -> str | None:
    """The module an `importlib.import_module(...)` / `__import__(...)` call names, when written out."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value)
    return None


def imported_modules(source: str, module: str = "", is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, relative ones resolved against
    `module` (the dotted name of the file), and `import_module` calls with a written-out name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if module else []
                base = base if is_package else base[:-1]
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call):
            name = _dynamic_import(node)
            if name:
                found.append((node.lineno, name))
    return found


def import_violations(source: str, package: str, module: str = "", is_package: bool = False) -> list[str]:
    """Where `source` (a file of `package`) imports a package it may not."""
    return sorted({f"line {line}: imports {name}" for line, name in imported_modules(source, module, is_package)
                   if name.split(".")[0] in FORBIDDEN[package]})


def extension_reads(source: str) -> list[str]:
    """Where `source` reads an `x-` extension directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in EXTENSIONS:
                found.append(f"line {node.lineno}: {node.value!r}")
            elif node.value == "x-":
                found.append(f"line {node.lineno}: 'x-' builds an extension key")
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and str(first.value).startswith("x-") and len(node.values) > 1:
                found.append(f"line {node.lineno}: an f-string builds an extension key")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "ext":
            found.append(f"line {node.lineno}: .ext( call")
    return sorted(set(found), key=lambda s: int(s.split(":")[0].split()[1]))


CONNEXION_PRIVATE = re.compile(r"connexion.*\._|from connexion.* import _")  # issue 14's grep, as it is


def connexion_private_uses(source: str) -> list[str]:
    """Lines naming a private part of Connexion (issue 14: `grep -rn "connexion.*\\._|from connexion.* import _"`)."""
    return [f"line {n}: {line.strip()}" for n, line in enumerate(source.splitlines(), 1)
            if CONNEXION_PRIVATE.search(line)]


# --- the files --------------------------------------------------------------------------------

def _files(*tops: str) -> list[pathlib.Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _violations(check, paths) -> dict[str, list[str]]:
    out = {}
    for path in paths:
        found = check(path.read_text(encoding="utf-8"))
        if found:
            out[_rel(path)] = found
    return out


# --- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package):
    def check(path):
        module, is_package = _module_name(path)
        return import_violations(path.read_text(encoding="utf-8"), package, module, is_package)

    files = _files(package)
    assert files, f"no files found for {package}"
    found = {_rel(p): v for p in files if (v := check(p))}
    assert found == {}, f"{package} may not import {sorted(FORBIDDEN[package])}: {found}"


def mock_internals_imported(source: str) -> list[str]:
    """The mockserver modules a harness test imports beyond the way a mock is started."""
    names = [name for _, name in imported_modules(source) if name.split(".")[0] == "mockserver"]
    return [n for n in names if not any(n == m or n.startswith(m + ".") for m in HARNESS_TESTS_MAY_IMPORT)]


def test_harness_tests_start_mocks_only_through_their_public_start():
    assert _violations(mock_internals_imported, _files("tests/harness")) == {}


def test_extensions_are_read_only_through_apispec_ext():
    outside = _files("mockserver", "contract_tests", "bench", "specdiff")
    found = _violations(extension_reads, outside)
    unexpected = {path: where for path, where in found.items() if path not in KNOWN_OFFENDERS}
    assert unexpected == {}, "read these through apispec.ext (add an accessor there if none fits)"
    cleaned = sorted(set(KNOWN_OFFENDERS) - set(found))
    assert cleaned == [], f"no longer read extensions directly: take them off KNOWN_OFFENDERS: {cleaned}"


def test_tests_read_extensions_through_apispec_ext_too():
    found = _violations(extension_reads, [p for p in _files("tests") if _rel(p) != "tests/test_layers.py"])
    unexpected = {path: where for path, where in found.items() if path not in TESTS_THAT_MUST_NAME_KEYS}
    assert unexpected == {}, "read these through apispec.ext"
    cleaned = sorted(set(TESTS_THAT_MUST_NAME_KEYS) - set(found))
    assert cleaned == [], f"no longer name extension keys: take them off TESTS_THAT_MUST_NAME_KEYS: {cleaned}"


def test_mockserver_uses_no_private_part_of_connexion():
    assert _violations(connexion_private_uses, _files("mockserver")) == {}


# --- each check fails on a violation ----------------------------------------------------------

def test_the_extension_keys_come_from_the_specs_and_not_from_header_names():
    assert {"x-pagination", "x-filter", "x-resource", "x-error-body", "x-slug"} <= EXTENSIONS
    assert not any(key.lower().startswith("x-ratelimit") for key in EXTENSIONS)


@pytest.mark.parametrize("package, source, module", [
    ("apispec", "import mockserver.store\n", "apispec.model"),
    ("apispec", "from contract_tests.context import Run\n", "apispec.model"),
    ("apispec", "from specdiff import rules\n", "apispec.lint"),
    ("mockserver", "from contract_tests import rules\n", "mockserver.app"),
    ("mockserver", "import importlib\nimportlib.import_module(f'specdiff.{name}')\n", "mockserver.app"),
    ("contract_tests", "from mockserver.testing import running\n", "contract_tests.runner"),
    ("contract_tests", "def f():\n    import mockserver\n", "contract_tests.cli"),
    ("specdiff", "from contract_tests.context import Run\n", "specdiff.cli"),
    ("specdiff", "from mockserver import app\n", "specdiff.rules"),
])
def test_an_import_against_the_layers_is_found(package, source, module):
    assert import_violations(source, package, module)


def test_imports_the_layers_allow_pass():
    assert import_violations("from apispec import ext\nfrom . import store\n", "mockserver", "mockserver.app") == []
    assert import_violations("from .rules import helpers\nimport requests\n", "contract_tests",
                             "contract_tests.runner") == []
    assert import_violations("from ..schema import properties\n", "apispec", "apispec.ext.unique") == []
    # relative imports resolve against the file: contract_tests.rules.auth's `..identity` is the harness's own
    assert imported_modules("from ..identity import identity_for\n", "contract_tests.rules.auth") == [
        (1, "contract_tests.identity"), (1, "contract_tests.identity.identity_for")]
    assert imported_modules("from . import paging\n", "contract_tests.rules", is_package=True) == [
        (1, "contract_tests.rules"), (1, "contract_tests.rules.paging")]


def test_a_harness_test_reaching_into_the_mock_is_found():
    assert mock_internals_imported("from mockserver.store import Store\n") == [
        "mockserver.store", "mockserver.store.Store"]
    started = "from mockserver.testing import running\nfrom mockserver.app import Settings\n"
    assert mock_internals_imported(started) == []


def test_a_direct_extension_read_is_found():
    key = sorted(EXTENSIONS)[0]
    assert extension_reads(f"rule = param.get({key!r})\n")
    assert extension_reads(f"if {key!r} in schema: pass\n")
    assert extension_reads("found = node.get(f'x-{name}')\n")
    assert extension_reads("found = node['x-' + name]\n")
    assert extension_reads("paging = op.ext('pagination')\n")


def test_what_is_not_an_extension_read_passes():
    assert extension_reads("headers['x-ratelimit-limit'] = '60'\n") == []
    assert extension_reads('"""Reads `x-filter` through apispec.ext."""\n') == []
    assert extension_reads("from apispec import ext\nrule = ext.filters.inputs(op)\n") == []


def test_a_private_part_of_connexion_is_found():
    assert connexion_private_uses("from connexion.context import _context\n")
    assert connexion_private_uses("from connexion.operations import _abstract\n")
    assert connexion_private_uses("handler = connexion.middleware._routing\n")
    assert connexion_private_uses("from connexion import FlaskApp\n") == []
