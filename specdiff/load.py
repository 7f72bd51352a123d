"""Reading an input: an OpenAPI 3 document from a file, standard input (`-`), a URL (http, https) or a
git revision (`main:specs/namak.yaml`, read with `git show`), with the `$ref`s it makes to other
files (relative to it: `common.yaml#/components/schemas/Error`) brought in, and the line of each
node, so that a change can be shown at its line. Anything else: SpecError.

Another file's content is placed under EXTERNAL (`#/x-specdiff-external/<n>`) and the `$ref`s to it
rewritten to point there, so the walk follows only local `$ref`s.
"""

from __future__ import annotations

import dataclasses
import pathlib
import posixpath
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import yaml

from apispec.refs import all_refs, resolve

EXTERNAL = "x-specdiff-external"


class SpecError(Exception):
    """An input that cannot be compared: the message is the one line the user sees."""


@dataclasses.dataclass
class Spec:
    """A loaded document, the name it was given by, and where each node stands: JSON pointer ->
    (file, line); `file` is the name a CI annotation can point at (the path given, or the path
    inside the repository for a git revision)."""

    document: dict
    name: str
    lines: dict[str, tuple[str, int]]

    def line(self, pointer: str) -> tuple[str, int]:
        """The file and line of `pointer`, or of its nearest ancestor that has one."""
        while pointer not in self.lines and pointer:
            pointer = pointer.rsplit("/", 1)[0]
        return self.lines.get(pointer, (self.lines.get("", (self.name, 1))[0], 1))


class _Source:
    """Where a text comes from, and how to read another one relative to it."""

    def __init__(self, given: str):
        self.given = given
        if given == "-":
            self.kind, self.where = "stdin", ""
        elif given.startswith(("http://", "https://")):
            self.kind, self.where = "url", given
        elif pathlib.Path(given).exists() or ":" not in given or _drive(given):
            self.kind, self.where = "file", given
        else:
            self.kind = "git"
            self.rev, self.where = given.split(":", 1)

    @property
    def display(self) -> str:
        """The name for annotations: the file's path (inside the repository for a revision)."""
        return self.where if self.kind in ("file", "git") else self.given

    def read(self) -> str:
        if self.kind == "stdin":
            return sys.stdin.read()
        if self.kind == "url":
            try:
                with urllib.request.urlopen(self.given, timeout=30) as response:    # noqa: S310 (http/https only)
                    return response.read().decode("utf-8")
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise SpecError(f"cannot read {self.given}: {getattr(exc, 'reason', None) or exc}") from None
            except UnicodeDecodeError:
                raise SpecError(f"cannot read {self.given}: not UTF-8 text") from None
        if self.kind == "git":
            done = subprocess.run(["git", "show", f"{self.rev}:{self.where}"], capture_output=True, timeout=60)
            if done.returncode:
                problem = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["git show failed"]
                raise SpecError(f"cannot read {self.given}: {problem[-1].removeprefix('fatal: ')}")
            try:
                return done.stdout.decode("utf-8")
            except UnicodeDecodeError:
                raise SpecError(f"cannot read {self.given}: not UTF-8 text") from None
        try:
            return pathlib.Path(self.where).read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"cannot read {self.given}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise SpecError(f"cannot read {self.given}: not UTF-8 text") from None

    def relative(self, ref_file: str) -> _Source:
        """The source a `$ref` to `ref_file` made in this one names."""
        if self.kind == "url" or ref_file.startswith(("http://", "https://")):
            return _Source(urllib.parse.urljoin(self.given, ref_file))
        if self.kind == "git":
            return _Source(f"{self.rev}:{posixpath.normpath(posixpath.join(posixpath.dirname(self.where), ref_file))}")
        base = pathlib.Path(self.where).parent if self.kind == "file" else pathlib.Path.cwd()
        return _Source(str(base / ref_file))


def _drive(given: str) -> bool:
    return len(given) > 1 and given[1] == ":" and given[0].isalpha()


def _parse(text: str, name: str) -> tuple[object, dict[str, int]]:
    """The document in `text` and the line of each of its nodes (by JSON pointer)."""
    try:
        document = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{name}: not valid YAML{where}: {problem}") from None
    lines: dict[str, int] = {}
    if root is not None:
        _lines(root, document, "", lines, set())
    return document, lines


def _lines(node, value, at: str, lines: dict, seen: set) -> None:
    lines.setdefault(at, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
        keys = {str(k): k for k in value}
        for key_node, value_node in node.value:
            key = keys.get(str(key_node.value))
            if key is None and isinstance(key_node, yaml.ScalarNode):
                continue
            here = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
            lines.setdefault(here, key_node.start_mark.line + 1)
            _lines(value_node, value[key], here, lines, seen)
    elif isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        for i, (item_node, item) in enumerate(zip(node.value, value, strict=False)):
            lines.setdefault(f"{at}/{i}", item_node.start_mark.line + 1)
            _lines(item_node, item, f"{at}/{i}", lines, seen)


def load_spec(given: str) -> Spec:
    """An OpenAPI 3 document from `given` (a path, `-`, a URL or `REV:path`), with the files its
    `$ref`s name brought in, and its lines; or SpecError."""
    source = _Source(given)
    document, lines = _parse(source.read(), given)
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise SpecError(f"{given}: not an OpenAPI 3 document (no 'openapi: 3.x' at the top)")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{given}: not an OpenAPI 3 document (no 'paths' mapping)")
    spec = Spec(document, given, {at: (source.display, line) for at, line in lines.items()})
    _bring_in(spec, document, source, "", {}, set())
    for ref in sorted(set(all_refs(document))):
        try:
            resolve(document, {"$ref": ref})
        except LookupError as exc:
            raise SpecError(f"{given}: {exc}") from None
    return spec


def _bring_in(spec: Spec, node, source: _Source, prefix: str, loaded: dict, seen: set) -> None:
    """Rewrite the `$ref`s in `node` (read from `source`, placed at `prefix` in the document):
    local ones to where the node now stands, those to other files to where their content is put."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, list):
        for item in node:
            _bring_in(spec, item, source, prefix, loaded, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        file_part, _, fragment = ref.partition("#")
        if file_part:
            node["$ref"] = "#" + _place(spec, source.relative(file_part), loaded, seen) + fragment
        elif prefix and fragment.startswith("/"):
            node["$ref"] = "#" + prefix + fragment
    for key, value in list(node.items()):
        if key != "$ref":
            _bring_in(spec, value, source, prefix, loaded, seen)


def _place(spec: Spec, source: _Source, loaded: dict, seen: set) -> str:
    """The pointer under which the document of `source` is placed (loading it the first time)."""
    key = source.given
    if key not in loaded:
        external = spec.document.setdefault(EXTERNAL, {})
        prefix = f"/{EXTERNAL}/{len(external)}"
        loaded[key] = prefix
        document, lines = _parse(source.read(), source.given)
        external[str(len(external))] = document
        spec.lines.update({prefix + at: (source.display, line) for at, line in lines.items()})
        _bring_in(spec, document, source, prefix, loaded, seen)
    return loaded[key]


def load(given: str) -> dict:
    """An OpenAPI 3 document (see load_spec), or SpecError."""
    return load_spec(given).document
