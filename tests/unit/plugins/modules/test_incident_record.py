# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The incident_record module: open (and resume), steps, evidence, close or escalate, info, check mode.
The clock is frozen: no assertion depends on how fast the test runs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _incident
from ansible_collections.clawd.ops.plugins.modules import incident_record

T0 = 1796601600 + 3600  # 2026-12-07T01:00:00Z


@pytest.fixture
def clock(monkeypatch):
    moments = {'now': T0}
    monkeypatch.setattr(_incident, 'now', lambda: moments['now'])
    return moments


def args(folder, **kwargs):
    return dict({'dir': str(folder)}, **kwargs)


def test_open_step_evidence_close(tmp_path, results, clock):
    folder = tmp_path / 'incidents'
    assert run_main(incident_record.main, args(folder, action='open', runbook='web_down', severity='P1', host='h1',
                                               summary='web down')) == 0
    opened = results[-1]
    assert opened['changed'] and not opened['resumed'] and opened['id'] == 'INC-20261207-001'
    clock['now'] += 30
    run_main(incident_record.main, args(folder, action='step', id=opened['id'],
                                        step={'step': 'restart_web_container', 'why': 'web exited', 'result': 'ok'}))
    run_main(incident_record.main, args(folder, action='evidence', id=opened['id'], evidence={'health': {'token': 'x', 'ok': False}},
                                        secrets=['s3cr3t-value']))
    assert os.path.exists(os.path.join(str(folder), opened['id'], 'evidence', 'SHA256SUMS'))
    clock['now'] += 15
    run_main(incident_record.main, args(folder, action='close', id=opened['id'], root_cause='web exited', resolution='restarted'))
    closed = results[-1]
    assert closed['record']['status'] == 'resolved' and closed['record']['recovery_seconds'] == 45
    assert [e['step'] for e in closed['record']['timeline']] == ['open', 'restart_web_container', 'close']
    assert os.path.exists(closed['paths']['markdown']) and '# Post-incident report: INC-20261207-001' in closed['markdown']
    run_main(incident_record.main, args(folder, action='close', id=opened['id']))
    assert results[-1]['changed'] is False


def test_open_resumes_the_incident_still_open_for_the_runbook(tmp_path, results, clock):
    run_main(incident_record.main, args(tmp_path, action='open', runbook='bot_not_responding', summary='bot'))
    first = results[-1]['id']
    run_main(incident_record.main, args(tmp_path, action='open', runbook='bot_not_responding', summary='bot again'))
    assert results[-1]['resumed'] and results[-1]['id'] == first and results[-1]['changed'] is False
    run_main(incident_record.main, args(tmp_path, action='open', runbook='web_down', summary='web'))
    assert results[-1]['id'] == 'INC-20261207-002'


def test_an_escalated_incident_stays_open_for_the_deploy_gate(tmp_path, results, clock):
    run_main(incident_record.main, args(tmp_path, action='open', runbook='web_down', summary='web'))
    incident_id = results[-1]['id']
    run_main(incident_record.main, args(tmp_path, action='close', id=incident_id, status='escalated',
                                        escalation={'level': 'level 2', 'reason': 'nothing worked'}))
    assert results[-1]['record']['status'] == 'escalated'
    run_main(incident_record.main, args(tmp_path, action='info'))
    assert [r['id'] for r in results[-1]['open']] == [incident_id] and results[-1]['changed'] is False


def test_check_mode_writes_nothing(tmp_path, results, clock):
    folder = tmp_path / 'incidents'
    run_main(incident_record.main, args(folder, action='open', runbook='disk_full', _ansible_check_mode=True))
    assert results[-1]['id'] == 'INC-20261207-001' and results[-1]['changed']
    run_main(incident_record.main, args(folder, action='step', id='INC-20261207-001', step={'step': 'x'}, _ansible_check_mode=True))
    assert results[-1]['changed']
    assert not folder.exists()


def test_a_bad_id_fails_saying_so(tmp_path, results, clock):
    assert run_main(incident_record.main, args(tmp_path, action='step', id='../../etc/passwd', step={'step': 'x'})) == 1
    assert 'not an incident id' in results[-1]['msg']
