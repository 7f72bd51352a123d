"""`pip install .` (not editable) into a fresh venv, then the commands (mockserver, contract-test,
specdiff, python -m apispec.lint) work from any directory:
the specs and fixtures ship inside the package (issue 14).

Offline and quick: the wheel is built from a copy of the tree with this environment's setuptools
(`--no-build-isolation`: the dev extra brings a setuptools that builds wheels by itself) and
installed with `--no-deps` into a venv without pip; a `.pth` file then lends it this environment's
site-packages for the dependencies only. That directory's `.pth` files are not run from there, so
the editable install of this checkout (a finder started by a `.pth` file) does not reach the new
venv; every command runs outside the checkout with no PYTHONPATH, and the test checks that what
it imports comes from the new venv.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import httpx
import pytest

from apispec.load import SLUGS
from apispec.model import contract
from contract_tests.context import demo_credentials
from mockserver.testing import ServedProcess

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("apispec", "mockserver", "contract_tests", "specdiff")  # what ships; tests and bench do not
DATA = {"specs": "apispec/specs", "fixtures": "apispec/fixtures"}
LEFT_BEHIND = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "reports",
                                     ".pytest_cache", ".ruff_cache", ".hypothesis", ".schemathesis")
TIMEOUT = 240  # seconds for any one step

# One documented endpoint of each API, asked as the demo credentials (Eventify's lists are POSTs
# with the credentials in the body).
ENDPOINTS = {
    "namak": ("GET", "/v1/events"),
    "amarevents": ("GET", "/api/events"),
    "tickets": ("GET", "/api/events/"),
    "ecoevents": ("GET", "/api/events"),
    "eventify": ("POST", "/api/events/type-list/"),
}


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout[-3000:]}" \
                                 f"\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, wheel, a directory outside the checkout, the environment to run in)."""
    if importlib.util.find_spec("setuptools.command.bdist_wheel") is None:
        pytest.fail("this environment's setuptools cannot build a wheel by itself: `make install` "
                    "(the dev extra brings setuptools>=70.1)")
    # nothing of the checkout on the path of any step (an editable install leaves its metadata there)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    base = tmp_path_factory.mktemp("install")
    source, wheels, venv, elsewhere = base / "source", base / "wheels", base / "venv", base / "elsewhere"
    shutil.copytree(ROOT, source, ignore=LEFT_BEHIND)
    elsewhere.mkdir()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--wheel-dir", str(wheels), str(source)], cwd=elsewhere, env=env)
    wheel = next(wheels.glob("event_api_contracts-*.whl"))
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=elsewhere, env=env)
    python = venv / "bin" / "python"
    # pip from this environment, installing into the new one (which has none of the project yet)
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
         cwd=elsewhere, env=env)
    site = pathlib.Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             cwd=elsewhere, env=env).stdout.strip())
    lent = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dev-dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(lent)), encoding="utf-8")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv, wheel, elsewhere, env


def test_the_wheel_holds_every_module_and_every_spec_and_fixture(installed):
    _, wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {p.relative_to(ROOT).as_posix() for top in PACKAGES for p in (ROOT / top).rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    for data, shipped in DATA.items():
        wanted |= {f"{shipped}/{p.relative_to(ROOT / data).as_posix()}" for p in (ROOT / data).rglob("*")
                   if p.is_file()}
    assert wanted - names == set(), "left out of the wheel: name the package in pyproject.toml"
    assert {"apispec/specs/namak.yaml", "apispec/specs/README.md", "apispec/fixtures/namak.yaml"} <= names
    assert not any(n.startswith(("tests/", "bench/", "specs/", "fixtures/")) for n in names)


def test_the_installed_packages_and_their_data_come_from_the_new_venv(installed):
    venv, _, elsewhere, env = installed
    probe = ("import json, apispec.load, mockserver, contract_tests, mockserver.cli, contract_tests.cli\n"
             "print(json.dumps([apispec.load.__file__, mockserver.__file__, contract_tests.__file__,"
             " str(apispec.load.SPEC_DIR), str(apispec.load.FIXTURES_DIR)]))")
    paths = json.loads(_run([str(venv / "bin" / "python"), "-c", probe], cwd=elsewhere, env=env).stdout)
    for path in paths:
        assert pathlib.Path(path).resolve().is_relative_to(venv.resolve()), path
    assert paths[3].endswith("apispec/specs") and paths[4].endswith("apispec/fixtures")


def test_mockserver_serve_all_works_from_anywhere(installed):
    venv, _, elsewhere, env = installed
    with ServedProcess("all", "--port", "0", "--quiet", command=[str(venv / "bin" / "mockserver")],
                       env=env, cwd=elsewhere) as served:
        assert set(served.roots) == set(SLUGS), served.stdout
        answers = {}
        for slug, (method, path) in ENDPOINTS.items():
            assert contract(slug).operation_at(method, path) is not None, f"{method} {path} is not in {slug}'s spec"
            identity = demo_credentials(slug).default
            answer = httpx.request(method, served.roots[slug] + path, headers=identity.headers,
                                   json=identity.body or None, timeout=10)
            answers[slug] = (answer.status_code, answer.text[:200])
    assert all(status == 200 for status, _ in answers.values()), answers


def test_the_spec_linter_contract_test_and_specdiff_work_from_anywhere(installed):
    venv, _, elsewhere, env = installed
    linted = _run([str(venv / "bin" / "python"), "-m", "apispec.lint"], cwd=elsewhere, env=env).stdout
    assert linted.splitlines() == [f"{slug}: ok" for slug in SLUGS]
    assert "namak: ok" in _run([str(venv / "bin" / "contract-test"), "lint", "namak"], cwd=elsewhere, env=env).stdout
    shipped = next((venv / "lib").glob("python3*/site-packages/apispec/specs/namak.yaml"))
    same = _run([str(venv / "bin" / "specdiff"), str(shipped), str(shipped)], cwd=elsewhere, env=env)
    assert same.stdout.lower().startswith("no changes"), same.stdout
