# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files that hold one job each: no module_utils file over 600 lines, no module or action plugin whose code
(what is left without its DOCUMENTATION, EXAMPLES and RETURN blocks) is over 200 lines.

A file that grows past a limit is split by job (as _coolify_envs.py left _coolify.py), not given a higher limit.
"""

import ast
import glob
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UTILS_LIMIT = 600
MODULE_CODE_LIMIT = 200
DOC_BLOCKS = {"DOCUMENTATION", "EXAMPLES", "RETURN"}


def relative(pattern):
    return sorted(os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, pattern)))


def line_count(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return len(handle.read().splitlines())


def code_lines(path):
    """The file's lines less those of its documentation blocks."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        text = handle.read()
    docs = 0
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) in DOC_BLOCKS for target in node.targets):
            docs += node.end_lineno - node.lineno + 1
    return len(text.splitlines()) - docs


@pytest.mark.parametrize("path", relative("plugins/module_utils/*.py"))
def test_module_utils_file_is_at_most_600_lines(path):
    lines = line_count(path)
    assert lines <= UTILS_LIMIT, "%s has %d lines (limit %d): split it by job" % (path, lines, UTILS_LIMIT)


@pytest.mark.parametrize("path", relative("plugins/modules/*.py") + relative("plugins/action/*.py"))
def test_module_code_is_at_most_200_lines(path):
    lines = code_lines(path)
    assert lines <= MODULE_CODE_LIMIT, "%s has %d lines of code besides its docs (limit %d): move logic to module_utils" % (
        path, lines, MODULE_CODE_LIMIT)


def test_the_counts_see_a_documentation_block(tmp_path):
    """code_lines() leaves out exactly the documentation blocks (a miscount would make the limits pass anything)."""
    sample = tmp_path / "sample.py"
    sample.write_text('DOCUMENTATION = r"""\na\nb\n"""\nEXAMPLES = ""\nx = 1\ny = 2\n', encoding="utf-8")
    assert code_lines(str(sample)) == 2
