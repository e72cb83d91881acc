# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests talk to the lab's HTTP stand-ins: put the repository's lab/ folder on sys.path."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

LAB = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'lab'))
if LAB not in sys.path:
    sys.path.insert(0, LAB)
