# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Product code (roles/ and plugins/) never names the test lab.

Every text file under roles/ and plugins/ is read line by line; a line holding any of the patterns below
(case-insensitive) fails the test, which names the file, the line number and the pattern. Identifiers that
merely look like a lab reference (``keep_label``) are renamed rather than allowed: the acceptance check is a
plain ``grep -rn '_lab' roles plugins``, which must find nothing.
"""

import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PRODUCT_DIRS = ("roles", "plugins")
SKIPPED_DIRS = {"__pycache__"}

# Each pattern names the lab: its Python package and folder (lab/, .lab/), its stand-in services,
# its DNS zone and its loopback addresses.
PATTERNS = ("_lab", "/_lab/", ".lab/", "stand-in", "standin", "clawd.test", "127.0.1.")


def product_files():
    """Every file under roles/ and plugins/, relative to the repository, sorted."""
    found = []
    for top in PRODUCT_DIRS:
        for folder, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(name for name in dirs if name not in SKIPPED_DIRS)
            found.extend(os.path.relpath(os.path.join(folder, name), ROOT) for name in files)
    return sorted(found)


def read_text(path):
    """The file's text, or None for a binary file (NUL bytes, or not UTF-8)."""
    with open(os.path.join(ROOT, path), "rb") as handle:
        data = handle.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def lab_references(text):
    """[(line number, pattern, line)] for every pattern found on a line, case-insensitive."""
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        lowered = line.lower()
        hits.extend((number, pattern, line.strip()) for pattern in PATTERNS if pattern in lowered)
    return hits


def test_the_walk_sees_the_product_code():
    files = product_files()
    assert "plugins/modules/docker_cleanup.py" in files
    assert "roles/maintenance/defaults/main.yml" in files


@pytest.mark.parametrize("text, expected", [
    ("maintenance_docker_keep_label: x", ["_lab"]),
    ("  keep_labelled: true", ["_lab"]),
    ("cd .lab/collections", [".lab/"]),
    ("path: /srv/_lab/x", ["_lab", "/_lab/"]),
    ("# the Telegram Stand-in answers", ["stand-in"]),
    ("StandIn()", ["standin"]),
    ("host: lab1.CLAWD.test", ["clawd.test"]),
    ("address: 127.0.1.5", ["127.0.1."]),
    ("address: 192.0.2.10, 127.0.0.1, host.example.com, label: x, keep_marker", []),
])
def test_the_patterns_catch_lab_references(text, expected):
    assert [pattern for _number, pattern, _line in lab_references(text)] == expected


def test_no_lab_reference_in_product_code():
    problems = []
    for path in product_files():
        text = read_text(path)
        if text is None:
            continue
        problems.extend("%s:%d: %r in: %s" % (path, number, pattern, line) for number, pattern, line in lab_references(text))
    assert not problems, "product code names the test lab:\n" + "\n".join(problems)
