""".github/workflows/contracts.yml: a pull-request workflow whose `run:` steps use only the project's
own commands (Makefile targets, .venv/bin/contract-test, .venv/bin/mockserver), git, curl and the
standard shell, and whose contract-test invocations name real APIs at their mock's address."""

from __future__ import annotations

import pathlib
import re
import shlex
from urllib.parse import urlsplit

import pytest
import yaml

from apispec.load import SLUGS
from apispec.model import contract

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "contracts.yml"

PROJECT = {".venv/bin/contract-test", ".venv/bin/mockserver"}
SHELL = {":", "[", "test", "echo", "printf", "set", "exit", "mkdir", "mktemp", "rm", "cat", "sleep", "seq",
         "dirname", "basename", "true", "false", "break", "continue", "cd", "export", "read", "cp", "mv", "ls",
         "grep", "sed", "tee", "head", "tail", "wc", "sort", "date", "kill", "wait", "git", "curl"}
WRAPPERS = {"nohup"}                    # run the command that follows them
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"}
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;", "|&"}


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m for m in re.findall(r"^([A-Za-z0-9_-]+)\s*:(?!=)", text, re.M)}


OPERATORS = ("&&", "||", ";;", "|&", ">>", "<<", ">&", "<&", "&>", ";", "&", "|", "(", ")", "<", ">")


def _tokens(line: str) -> list[str]:
    """Shell words and operators of one line (shlex runs operators together: `);` is `)` `;`)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens = []
    for token in lexer:
        if token and set(token) <= set(";&|()<>"):
            while token:
                operator = next(op for op in OPERATORS if token.startswith(op))
                tokens.append(operator)
                token = token[len(operator):]
        else:
            tokens.append(token)
    return tokens


def _redirection(token: str) -> bool:
    return token in OPERATORS and ("<" in token or ">" in token)


def commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, each as its words (command first), including those
    inside `$(...)`; assignments, redirections and keywords left out."""
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script).replace("\\\n", " ")
    found: list[list[str]] = []
    for line in script.splitlines():
        tokens = _tokens(line)
        current: list[str] = []
        skip_list = skip_target = False
        for i, token in enumerate(tokens):
            if skip_target:
                skip_target = False
                continue
            if token in SEPARATORS:
                if current:
                    found.append(current)
                current, skip_list = [], False
                continue
            if _redirection(token):
                skip_target = True              # a redirection and its target
                continue
            if token.isdigit() and i + 1 < len(tokens) and _redirection(tokens[i + 1]):
                continue                        # the file descriptor of `2>&1`
            if skip_list:
                continue
            if not current and token in KEYWORDS:
                continue
            if not current and token in ("for", "case", "select"):
                skip_list = True                # `for NAME in WORDS` up to the next separator
                continue
            if not current and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
                continue                        # an assignment before (or instead of) a command
            if not current and token in WRAPPERS:
                continue
            current.append(token)
        if current:
            found.append(current)
        for token in tokens:                    # "$(...)" inside a quoted word
            for inner in re.findall(r"\$\(([^()]*)\)", token):
                found += commands(inner)
    return found


def run_steps(workflow: dict) -> list[tuple[str, dict]]:
    return [(job, step) for job, spec in workflow["jobs"].items() for step in spec["steps"] if "run" in step]


def uses_steps(workflow: dict) -> list[dict]:
    return [step for spec in workflow["jobs"].values() for step in spec["steps"] if "uses" in step]


def violations(workflow: dict) -> list[str]:
    """Every command of a `run:` step that is not the project's own, git, curl or plain shell."""
    targets = makefile_targets()
    problems = []
    for job, step in run_steps(workflow):
        for words in commands(step["run"]):
            name = words[0]
            if name == "make":
                missing = [t for t in words[1:] if not t.startswith("-") and t not in targets]
                if missing or len(words) == 1:
                    problems.append(f"{job}: make {' '.join(words[1:])}: not a target of the Makefile")
            elif name not in PROJECT | SHELL:
                problems.append(f"{job}: {name}: not one of the project's commands")
    return problems


def contract_test_runs(workflow: dict) -> list[list[str]]:
    return [words for _, step in run_steps(workflow) for words in commands(step["run"])
            if words[0] == ".venv/bin/contract-test"]


def invocation_problems(workflow: dict) -> list[str]:
    problems = []
    for words in contract_test_runs(workflow):
        sub, options = words[1], dict(zip(words[2::2], words[3::2], strict=False))
        if sub in ("diff", "lint"):
            continue
        if sub not in SLUGS:
            problems.append(f"contract-test {sub}: not an API (one of {', '.join(SLUGS)})")
            continue
        spec = contract(sub)
        url = urlsplit(options.get("--base-url", ""))
        if (url.hostname, url.port, url.path) != ("127.0.0.1", spec.default_port(), spec.base_path):
            problems.append(f"contract-test {sub}: --base-url {options.get('--base-url')} is not its mock "
                            f"(http://127.0.0.1:{spec.default_port()}{spec.base_path})")
        if options.get("--junit-xml") != f"reports/{sub}.xml":
            problems.append(f"contract-test {sub}: --junit-xml should be reports/{sub}.xml")
    return problems


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_it_runs_on_pull_requests(workflow):
    triggers = workflow.get("on", workflow.get(True))    # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers


def test_every_run_step_uses_only_the_projects_commands(workflow):
    assert violations(workflow) == []


def test_contract_test_invocations_name_valid_apis_at_their_mocks(workflow):
    assert invocation_problems(workflow) == []
    slugs = [w[1] for w in contract_test_runs(workflow) if w[1] in SLUGS]
    assert sorted(slugs) == sorted(SLUGS)


def test_it_diffs_changed_specs_as_annotations_and_a_comment_and_fails_on_breaking(workflow):
    diffs = [w for w in contract_test_runs(workflow) if w[1] == "diff"]
    formats = sorted(w[w.index("--format") + 1] for w in diffs)
    assert formats == ["githubactions", "markdown"]
    # the old version straight from the base branch (a git revision), the new one from the checkout
    assert all(w[2:4] == ["$BASE_REF:$spec", "$spec"] for w in diffs)
    assert "--changelog" in next(w for w in diffs if "markdown" in w)
    scripts = "\n".join(step["run"] for _, step in run_steps(workflow))
    assert "specs/*.yaml" in scripts
    assert any(step["uses"].startswith("actions/github-script@") and "createComment" in step["with"]["script"]
               for step in uses_steps(workflow))
    fail = [step for _, step in run_steps(workflow) if "breaking" in str(step.get("if", ""))]
    assert fail and "exit 1" in fail[0]["run"]


def test_it_installs_lints_starts_the_mocks_and_keeps_the_reports(workflow):
    runs = [words for _, step in run_steps(workflow) for words in commands(step["run"])]
    assert ["make", "install"] in runs and ["make", "lint"] in runs
    assert any(cmd[:3] == [".venv/bin/mockserver", "serve", "all"] for cmd in runs)
    scripts = "\n".join(step["run"] for _, step in run_steps(workflow))
    assert "/__admin/health" in scripts and all(str(8000 + i) in scripts for i in range(1, 6))
    assert "seq 1 60" in scripts                          # the wait is bounded
    uses = {step["uses"].split("@")[0]: step for step in uses_steps(workflow)}
    assert uses["actions/checkout"]["with"]["fetch-depth"] == 0
    assert str(uses["actions/setup-python"]["with"]["python-version"]) == "3.11"
    assert uses["actions/upload-artifact"]["with"]["path"].rstrip("/") == "reports"


def test_the_checker_is_not_vacuous():
    """What it must reject, it rejects."""
    bad = {"jobs": {"j": {"steps": [{"run": "npm install\nmake deploy\ngh pr comment 1 --body x\n"
                                            "x=$(python -c 1)\nif true; then pip install foo; fi\n"
                                            ".venv/bin/contract-test nosuch --base-url http://127.0.0.1:1/api\n"
                                            ".venv/bin/contract-test namak --base-url http://127.0.0.1:8002/api "
                                            "--junit-xml reports/namak.xml\n"}]}}}
    assert {p.split(":")[1].strip() for p in violations(bad)} == {"npm", "make deploy", "gh", "python", "pip"}
    assert len(invocation_problems(bad)) == 2


def test_the_shell_reader():
    script = ('set -u\nfor spec in $(git diff --name-only "$BASE"...HEAD); do\n'
              '  if [ "$(dirname "$spec")" != specs ]; then continue; fi\n'
              '  old=$(mktemp)   # a comment: rm -rf /\n'
              '  nohup .venv/bin/mockserver serve all > log 2>&1 &\n'
              '  curl -s "http://x/${{ github.base_ref }}" >/dev/null || status=$?\n'
              'done\n')
    assert commands(script) == [
        ["set", "-u"], ["git", "diff", "--name-only", "$BASE...HEAD"], ["[", "$(dirname $spec)", "!=", "specs", "]"],
        ["continue"], ["dirname", "$spec"], ["mktemp"], [".venv/bin/mockserver", "serve", "all"],
        ["curl", "-s", "http://x/EXPR"]]
