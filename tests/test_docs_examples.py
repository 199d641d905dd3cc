"""The shell examples of README.md and docs/*.md, run or checked so that they cannot drift.

Conventions (docs/development.md, "The docs' examples"):

- Shell examples are fenced ```sh blocks; other shell tags are refused, and every fence names
  its language. Output is shown in comments.
- curl commands run for real, top to bottom, one document after another, against a live
  server (`localhost:8000` and `127.0.0.1:8000` become its address) whose database is emptied
  and whose ids start again at 1 before each document. Each
  must exit 0 and either use `-f` (any status below 400) or use `-i` and end with a comment
  whose first word is the expected status; `Location` and `ETag` named in that comment are
  checked too.
- Other commands are checked without running them: `bash -n`, `scripts/dev.py`
  subcommands, `python -m service` arguments (parsed by its own argparse), modules, files and
  `bench` options they name.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import runpy
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tortoise import connections

from service.config import Settings
from tests.servers import REPO_ROOT, Server

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
SHELL_TAG = "sh"
OTHER_SHELL_TAGS = {"bash", "shell", "console", "zsh", "shell-session", "shellsession"}
EXAMPLE_HOST = re.compile(r"(?:https?://)?(?:localhost|127\.0\.0\.1):8000")
README_MAX_LINES = 150
SETUP_COMMANDS = ["python3 scripts/dev.py serve", "python3 scripts/dev.py test"]

# Written on other branches of the same change; each entry goes once that branch is merged
# (test_pending_items_are_still_pending says when).

_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)")
_STATUS_LINE = re.compile(r"^HTTP/[\d.]+ (\d{3})", re.MULTILINE)
_CHECKED_HEADERS = ("Location", "ETag")
_PATH_LIKE = re.compile(
    r"^(?:\.?[\w-]+/)+[\w.-]*$|^[\w.-]+\.(?:py|md|toml|ini|yml|yaml|lock|lua|txt|json|cfg|sh)$"
)
_ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # of the opening fence
    tag: str
    text: str


@dataclass(frozen=True)
class Command:
    document: Path
    line: int
    text: str  # continuation lines joined, the comment removed
    comment: str

    def __str__(self) -> str:
        return f"{self.document.relative_to(REPO_ROOT)}:{self.line}: {self.text}"

    @property
    def argv(self) -> list[str]:
        words = shlex.split(self.text)
        while words and _ENV_ASSIGNMENT.match(words[0]):
            words = words[1:]
        return words


def blocks(document: Path) -> list[Block]:
    found: list[Block] = []
    lines = document.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, tag = opening.groups()
        end = index + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        found.append(Block(document, index + 1, tag, "\n".join(lines[index + 1 : end])))
        index = end + 1
    return found


def shell_blocks(document: Path) -> list[Block]:
    return [block for block in blocks(document) if block.tag == SHELL_TAG]


def split_comment(line: str) -> tuple[str, str]:
    """`code  # comment` -> ("code", "comment"): a `#` starting a word outside quotes."""
    quote: str | None = None
    escaped = False
    for position, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[:position].rstrip(), line[position + 1 :].strip()
    return line.rstrip(), ""


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    pending: list[str] = []
    start = 0
    for offset, raw in enumerate(block.text.splitlines()):
        code, comment = split_comment(raw)
        if not pending:
            start = block.line + 1 + offset
        if code.endswith("\\"):
            pending.append(code[:-1].strip())
            continue
        if code.strip() or pending:
            text = " ".join([*pending, code.strip()]).strip()
            found.append(Command(block.document, start, text, comment))
        pending = []
    return found


def all_commands() -> list[Command]:
    return [
        command
        for document in DOCUMENTS
        for block in shell_blocks(document)
        for command in commands(block)
    ]


def is_curl(command: Command) -> bool:
    return command.argv[:1] == ["curl"]


def relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


# -- conventions --------------------------------------------------------------------------


def test_every_fence_names_its_language_and_shell_is_tagged_sh() -> None:
    wrong = [
        f"{relative(block.document)}:{block.line}: ```{block.tag}"
        for document in DOCUMENTS
        for block in blocks(document)
        if not block.tag or block.tag in OTHER_SHELL_TAGS
    ]
    assert not wrong, f"tag shell ```{SHELL_TAG} and every other block its language: {wrong}"


def test_the_readme_is_short_and_sets_up_with_the_two_commands() -> None:
    readme = REPO_ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= README_MAX_LINES
    setup = [c.text for c in all_commands() if c.document == readme and "dev.py" in c.text]
    assert setup == SETUP_COMMANDS


def test_shell_blocks_parse() -> None:
    for document in DOCUMENTS:
        for block in shell_blocks(document):
            checked = subprocess.run(
                ["bash", "-n"], input=block.text, capture_output=True, text=True, check=False
            )
            where = f"{relative(document)}:{block.line}"
            assert checked.returncode == 0, f"{where}: {checked.stderr}"


def test_links_between_documents_resolve() -> None:
    for document in DOCUMENTS:
        text = re.sub(r"^```.*?^```", "", document.read_text(), flags=re.MULTILINE | re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # an outside URL
            path_part, _, anchor = target.partition("#")
            linked = (document.parent / path_part).resolve() if path_part else document
            where = f"{relative(document)}: ({target})"
            assert linked.exists(), f"{where}: no such file"
            if anchor and linked.suffix == ".md":
                assert anchor in anchors(linked), f"{where}: no such heading"


def anchors(document: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", document.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


# -- curl examples against a live server --------------------------------------------------


def curl_documents() -> list[Path]:
    return [d for d in DOCUMENTS if any(is_curl(c) for c in all_commands() if c.document == d)]


@pytest.mark.parametrize("document", curl_documents(), ids=relative)
async def test_curl_examples_run_top_to_bottom_on_a_fresh_database(
    document: Path, live_server: Server, settings: Settings
) -> None:
    examples = [c for c in all_commands() if c.document == document and is_curl(c)]
    for example in examples:
        expectation(example)  # every example says what it expects, before any runs
    await start_ids_at_one(settings)  # the tables are empty (conftest); ids start again at 1
    for example in examples:
        run_curl(example, live_server.base_url)


async def start_ids_at_one(settings: Settings) -> None:
    if settings.is_sqlite:
        restart = "DELETE FROM sqlite_sequence WHERE name IN ('notes', 'idempotent_creates')"
    else:
        restart = "TRUNCATE notes, idempotent_creates RESTART IDENTITY"
    await connections.get("default").execute_script(restart)


def expectation(example: Command) -> str | None:
    """The status an example's comment names; None for a `-f` example."""
    flags = set("".join(w[1:] for w in example.argv if re.fullmatch(r"-[A-Za-z]+", w)))
    words = set(example.argv)
    includes = "i" in flags or "--include" in words
    fails = "f" in flags or bool(words & {"--fail", "--fail-with-body"})
    status = re.match(r"(\d{3})\b", example.comment)
    if status:
        assert includes, f"{example}: add -i, so that the status can be checked"
        return status.group(1)
    assert fails, f"{example}: use -f, or -i with the expected status first in the comment"
    return None


def run_curl(example: Command, base_url: str) -> None:
    command = EXAMPLE_HOST.sub(base_url, example.text)
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=10, check=False
    )
    output = f"{example}\n--- exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    status = expectation(example)
    if status is None:
        return
    statuses = _STATUS_LINE.findall(done.stdout)
    assert statuses, output
    assert statuses[-1] == status, output
    head = done.stdout.split("\r\n\r\n", 1)[0]
    for name in _CHECKED_HEADERS:
        named = re.search(rf"\b{name}: (\S+?)(?:[,;]|\s|$)", example.comment)
        if named:
            answered = re.search(rf"^{name}: (.*?)\r?$", head, re.MULTILINE | re.IGNORECASE)
            assert answered is not None, output
            assert answered.group(1) == named.group(1), output


# -- every other command: checked, not run ------------------------------------------------


def other_commands() -> list[Command]:
    return [c for c in all_commands() if not is_curl(c)]


@pytest.mark.parametrize("command", other_commands(), ids=str)
def test_other_commands_name_what_exists(command: Command, monkeypatch: pytest.MonkeyPatch) -> None:
    check(command.argv, str(command), monkeypatch)


def check(argv: list[str], where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for word in argv[1:]:
        if _PATH_LIKE.match(word) and ":" not in word:
            assert (REPO_ROOT / word).exists(), f"{where}: {word} does not exist"
    if argv[:2] == ["python3", "scripts/dev.py"]:
        check_dev_py(argv[2:], where, monkeypatch)
    elif argv[:1] in (["python"], ["python3"]):
        check_python(argv[1:], where, monkeypatch)
    elif argv[:2] == ["docker", "compose"]:
        assert (REPO_ROOT / "docker-compose.yml").exists(), where
    elif argv[:2] == ["docker", "build"]:
        assert (REPO_ROOT / "Dockerfile").exists(), where


def check_dev_py(argv: list[str], where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert argv, f"{where}: no subcommand"
    subcommand, rest = argv[0], argv[1:]
    assert subcommand in dev_subcommands(), f"{where}: no {subcommand!r}"
    if subcommand == "bench":
        options = set(re.findall(r'"(--[\w-]+)"', (REPO_ROOT / "bench" / "run.py").read_text()))
        unknown = [word for word in rest if word.startswith("--") and word not in options]
        assert not unknown, f"{where}: bench/run.py has no {unknown}"
    if subcommand == "run":
        while rest[:1] == ["--group"]:  # uv's own options, before the command
            rest = rest[2:]
        assert rest, f"{where}: nothing to run"
        check(rest, where, monkeypatch)


def dev_subcommands() -> set[str]:
    """The subcommands scripts/dev.py documents in its usage and handles."""
    module = importlib.import_module("scripts.dev")
    documented = set(re.findall(r"python3 scripts/dev\.py ([\w-]+)", module.__doc__ or ""))
    source = (REPO_ROOT / "scripts" / "dev.py").read_text()
    return {name for name in documented if f'"{name}"' in source}


def check_python(argv: list[str], where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if argv[:1] != ["-m"]:
        return  # a script: its path was checked above
    module, rest = argv[1], argv[2:]
    if module == "service":
        check_service_cli(rest, where, monkeypatch)
        return
    top = module.split(".")[0]
    if (REPO_ROOT / top).is_dir() or (REPO_ROOT / f"{top}.py").exists():
        assert importlib.util.find_spec(module) is not None, f"{where}: no module {module}"


class _Parsed(Exception):
    pass


def check_service_cli(argv: list[str], where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m service ...` parsed by the CLI's own argparse, stopped before it acts."""
    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise _Parsed(parse(self, *args, **kwargs))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    monkeypatch.setattr(sys, "argv", ["python -m service", *argv])
    try:
        runpy.run_module("service", run_name="__main__", alter_sys=False)
    except _Parsed:
        return
    except SystemExit as exit_:
        pytest.fail(f"{where}: python -m service refuses these arguments ({exit_})")
    pytest.fail(f"{where}: python -m service did not parse its arguments")
