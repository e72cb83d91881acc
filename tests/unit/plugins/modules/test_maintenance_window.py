# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance_window module: open a window (idempotent for the same run), check mode, diff, end it, refusals.
The clock is frozen (_maintenance.utc_now)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _maintenance
from ansible_collections.clawd.ops.plugins.modules import maintenance_window

T0 = datetime.datetime(2026, 12, 7, 3, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def clock(monkeypatch):
    frozen = {'now': T0}
    monkeypatch.setattr(_maintenance, 'utc_now', lambda: frozen['now'])
    return frozen


def args(path, **kwargs):
    return dict({'path': str(path), 'reason': 'upgrade to 3f2a9c1', 'seconds': 7200, 'run_id': 'r1', 'commit': '3f2a9c1',
                 'who': 'ops@laptop'}, **kwargs)


def test_open_keep_and_end_a_window(tmp_path, results, clock):
    path = tmp_path / 'clawd' / 'maintenance.json'
    assert run_main(maintenance_window.main, args(path, _ansible_check_mode=True)) == 0
    assert results[-1]['changed'] is True and results[-1]['marker']['until'] == '2026-12-07T05:00:00Z' and not path.exists()

    assert run_main(maintenance_window.main, args(path, _ansible_diff=True)) == 0
    opened = results[-1]
    assert opened['changed'] is True and opened['previous'] is None
    assert json.loads(path.read_text()) == opened['marker'] == {
        'maintenance': True, 'since': '2026-12-07T03:00:00Z', 'until': '2026-12-07T05:00:00Z', 'reason': 'upgrade to 3f2a9c1',
        'run_id': 'r1', 'commit': '3f2a9c1', 'who': 'ops@laptop'}
    assert opened['diff'] == {'before': {}, 'after': opened['marker']}
    assert oct(path.stat().st_mode & 0o777) == '0o644'

    clock['now'] = T0 + datetime.timedelta(minutes=10)
    assert run_main(maintenance_window.main, args(path)) == 0
    assert results[-1]['changed'] is False and results[-1]['marker']['since'] == '2026-12-07T03:00:00Z'

    assert run_main(maintenance_window.main, {'path': str(path), 'state': 'absent', '_ansible_check_mode': True}) == 0
    assert results[-1]['changed'] is True and path.exists()
    assert run_main(maintenance_window.main, {'path': str(path), 'state': 'absent'}) == 0
    assert results[-1]['changed'] is True and results[-1]['previous']['run_id'] == 'r1' and results[-1]['marker'] is None
    assert not path.exists()
    assert run_main(maintenance_window.main, {'path': str(path), 'state': 'absent'}) == 0
    assert results[-1]['changed'] is False


def test_an_unreadable_marker_is_replaced_with_a_warning(tmp_path, results, clock):
    path = tmp_path / 'maintenance.json'
    path.write_text('{"reason": "forever"}')
    assert run_main(maintenance_window.main, args(path)) == 0
    assert results[-1]['changed'] is True and 'could not be read' in results[-1]['warnings'][0]
    assert json.loads(path.read_text())['until'] == '2026-12-07T05:00:00Z'


@pytest.mark.parametrize('extra, message', [({'seconds': 0}, 'must end'), ({'reason': ' '}, 'needs a reason')])
def test_a_window_without_an_end_or_a_reason_is_refused(tmp_path, results, clock, extra, message):
    path = tmp_path / 'maintenance.json'
    assert run_main(maintenance_window.main, args(path, **extra)) == 1
    assert results[-1]['failed'] and message in results[-1]['msg'] and not path.exists()


def test_a_window_needs_a_reason(tmp_path, results, clock):
    assert run_main(maintenance_window.main, {'path': str(tmp_path / 'm.json')}) == 1
    assert 'reason' in results[-1]['msg']
