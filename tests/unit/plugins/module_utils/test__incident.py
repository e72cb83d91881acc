# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The incident records: ids that never repeat, the timeline, the redacted evidence and the post-incident note."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _incident

DAY = 1796601600.0  # 2026-12-07T00:00:00Z


def test_next_id_is_one_more_than_the_highest_of_that_day_only():
    names = ['INC-20261207-001.json', 'INC-20261207-007.json', 'INC-20261206-042.json', 'notes.txt']
    assert _incident.next_id('20261207', names) == 'INC-20261207-008'
    assert _incident.next_id('20261208', names) == 'INC-20261208-001'


def test_the_counter_wins_over_removed_records():
    assert _incident.next_id('20261207', ['INC-20261207-001.json'], counter=5) == 'INC-20261207-006'


def test_ids_never_repeat_even_when_a_record_is_removed(tmp_path):
    store = _incident.IncidentStore(str(tmp_path / 'incidents'))
    with store.locked():
        first = store.allocate(DAY + 60)
        store.save(_incident.new_record(first, 'web_down', 'h1', 'P1', 'web down', DAY + 60))
        second = store.allocate(DAY + 120)
    os.unlink(store.path(first))
    with store.locked():
        third = store.allocate(DAY + 180)
    assert [first, second, third] == ['INC-20261207-001', 'INC-20261207-002', 'INC-20261207-003']
    assert store.peek(DAY + 200) == 'INC-20261207-004'


def test_open_incidents_are_found_per_runbook_and_escalated_ones_stay_open(tmp_path):
    store = _incident.IncidentStore(str(tmp_path))
    web = _incident.new_record('INC-20261207-001', 'web_down', 'h1', 'P1', 'web down', DAY)
    bot = _incident.close_record(_incident.new_record('INC-20261207-002', 'bot_not_responding', 'h1', 'P1', 'bot', DAY),
                                 'escalated', DAY + 10, escalation={'level': 'L2', 'reason': 'nothing worked'})
    done = _incident.close_record(_incident.new_record('INC-20261207-003', 'disk_full', 'h1', 'P1', 'disk', DAY), 'resolved', DAY + 5)
    for record in (web, bot, done):
        store.save(record)
    assert [r['id'] for r in store.open_incidents()] == ['INC-20261207-001', 'INC-20261207-002']
    assert [r['id'] for r in store.open_incidents('web_down')] == ['INC-20261207-001']
    assert os.path.exists(store.path('INC-20261207-002', '.md')) and not os.path.exists(store.path('INC-20261207-001', '.md'))


def test_close_computes_duration_and_recovery_from_detection():
    record = _incident.new_record('INC-20261207-001', 'web_down', 'h1', 'P1', 'web down', DAY + 30, detected_at=DAY)
    record = _incident.add_step(record, {'step': 'restart_container', 'why': 'web exited', 'result': 'ok'}, DAY + 40)
    closed = _incident.close_record(record, 'resolved', DAY + 95, root_cause='web container exited', resolution='restarted it')
    assert closed['status'] == 'resolved' and closed['closed_at'] == '2026-12-07T00:01:35Z'
    assert closed['duration_seconds'] == 65 and closed['recovery_seconds'] == 95
    assert [e['step'] for e in closed['timeline']] == ['open', 'restart_container', 'close']


def test_a_step_needs_a_known_result():
    record = _incident.new_record('INC-20261207-001', 'web_down', 'h1', 'P1', 'web down', DAY)
    with pytest.raises(_incident.IncidentError):
        _incident.add_step(record, {'step': 'x', 'result': 'maybe'}, DAY)


def test_evidence_is_redacted_and_listed_with_its_sha256(tmp_path):
    store = _incident.IncidentStore(str(tmp_path))
    record = _incident.new_record('INC-20261207-001', 'bot_not_responding', 'h1', 'P1', 'bot', DAY)
    token = '7200000001:AAsecretsecretsecretsecret'
    record = store.save_evidence(record, {'webhook': {'url': 'https://x/bot%s/getMe' % token, 'api_token': 'abc12345'},
                                          'logs': ['line with %s inside' % token]}, secrets=[token])
    folder = store.evidence_dir('INC-20261207-001')
    for name in ('webhook.json', 'logs.json'):
        text = open(os.path.join(folder, name)).read()
        assert token not in text and 'abc12345' not in text
    sums = open(os.path.join(folder, 'SHA256SUMS')).read().splitlines()
    assert len(sums) == 2
    for line in sums:
        digest, name = line.split('  ')
        assert hashlib.sha256(open(os.path.join(folder, name), 'rb').read()).hexdigest() == digest == record['evidence']['files'][name]


def test_evidence_names_must_be_plain_file_names(tmp_path):
    store = _incident.IncidentStore(str(tmp_path))
    record = _incident.new_record('INC-20261207-001', 'web_down', 'h1', 'P1', 'web', DAY)
    with pytest.raises(_incident.IncidentError):
        store.save_evidence(record, {'../escape': {}})


def test_the_note_follows_the_template_and_leaves_action_items_blank():
    record = _incident.new_record('INC-20261207-001', 'web_down', 'h1', 'P1', 'web | down', DAY)
    record = _incident.close_record(record, 'resolved', DAY + 125, root_cause='proxy stopped', resolution='restarted the proxy')
    text = _incident.render_markdown(record)
    for part in ('# Post-incident report: INC-20261207-001', '| Severity | P1 |', '| Time to verified recovery | 2m 5s |',
                 '## Timeline (UTC)', '## Root cause (as diagnosed)', 'proxy stopped', '## Action items', '| | | |', 'web \\| down'):
        assert part in text, part


def test_records_are_json_written_atomically_with_mode_0600(tmp_path):
    store = _incident.IncidentStore(str(tmp_path / 'x'))
    record = _incident.new_record('INC-20261207-001', 'web_down', 'h1', 'P1', 'web', DAY)
    with store.locked():
        store.save(record)
    assert json.load(open(store.path(record['id'])))['id'] == record['id']
    assert oct(os.stat(store.path(record['id'])).st_mode & 0o777) == '0o600'
    assert not [n for n in os.listdir(str(tmp_path / 'x')) if n.startswith('.tmp-')]
