# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a module's main() in-process and capturing what it exits with, for every module test."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.module_utils import basic


@pytest.fixture
def results(monkeypatch):
    """The results the module exited with, in order; each has `failed` (and `msg` when failed) and `warnings`."""
    captured = []

    def exit_json(self, **kwargs):
        captured.append(dict(kwargs, failed=False, warnings=list(getattr(self, '_clawd_warnings', []))))
        raise SystemExit(0)

    def fail_json(self, msg, **kwargs):
        captured.append(dict(kwargs, failed=True, msg=msg))
        raise SystemExit(1)

    def warn(self, warning):
        self._clawd_warnings = getattr(self, '_clawd_warnings', []) + [warning]

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', warn)
    return captured
