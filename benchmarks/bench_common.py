# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the benchmarks share: importing this checkout as ansible_collections.clawd.ops, and sizes like 64M."""

from __future__ import absolute_import, division, print_function

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_collection(workdir):
    """Make ansible_collections.clawd.ops importable from this checkout (a link under workdir when it is not)."""
    try:
        import ansible_collections.clawd.ops.plugins.module_utils  # noqa: F401 pylint: disable=unused-import
        return
    except ImportError:
        pass
    root = os.path.join(workdir, 'collections')
    link = os.path.join(root, 'ansible_collections', 'clawd', 'ops')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    sys.path.insert(0, root)


def parse_size(text):
    """Bytes from '1G', '64M', '512K', '1.5GiB' or a plain number."""
    units = {'': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
    text = text.strip().upper().rstrip('B').rstrip('I')
    unit = text[-1] if text and text[-1] in units else ''
    return int(float(text[:-1] if unit else text) * units[unit])
