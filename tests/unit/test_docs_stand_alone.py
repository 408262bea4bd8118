"""The README and docs/ stand alone: every file they link or name is in the repository, and none
points to material outside it (the project's private working notes)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
#: A repository path written in backticks: `src/relaybox/api/pages.py`, `tests/browser/conftest.py`.
NAMED_PATH = re.compile(r"`((?:src|tests|bench|docs|scripts)/[\w./-]*\w)`")
#: Names of the private notes: their folder, the contract file, and the "seed" documents (the
#: simulator's random seed, `RELAYBOX_SIM_SEED`, is another thing and is fine).
OUTSIDE = re.compile(r"\.\./shared|\bshared/|(?-i:\bCONTRACT\b)|\bseeds\b|\bthe seed(?:'s| says| describes| prints| pages)", re.I)


def test_every_linked_file_exists():
    for document in DOCUMENTS:
        for target in LINK.findall(document.read_text()):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            assert (document.parent / target).exists(), f"{document.name} links {target}, which is not in the repository"


def test_every_named_repository_path_exists():
    for document in DOCUMENTS:
        for named in NAMED_PATH.findall(document.read_text()):
            assert (ROOT / named).exists(), f"{document.name} names {named}, which is not in the repository"


def test_nothing_points_outside_the_repository():
    for document in DOCUMENTS:
        for number, line in enumerate(document.read_text().splitlines(), 1):
            assert not OUTSIDE.search(line), f"{document.name}:{number}: {line}"
