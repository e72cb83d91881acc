# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests that run the real tools without the lab: ansible-playbook (the ledger callback, the secrets of the HTTP
modules at -vvvvvv against an in-process stand-in), containers of the lab images (swap tasks, app_watch),
headless Chromium (the HTML report), bash (the README runner's secret scan).

This puts the repository's lab/ folder on sys.path, for ``import standins``."""

import os
import sys

LAB = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
if LAB not in sys.path:
    sys.path.insert(0, LAB)
