# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scenario daily_checks: the report files the runs left on the controller, and the bot's replies at the Telegram stand-in."""

import glob
import hashlib
import json
import os

import requests

testinfra_hosts = ['all']  # pylint: disable=invalid-name

HOST = 'clawd-molecule-daily_checks'
REPORTS = os.path.join(os.environ['CLAWD_STATE'], 'hosts', 'molecule-daily_checks', 'reports')
TELEGRAM = 'http://127.0.0.1:%s' % os.environ.get('CLAWD_PORT_TELEGRAM', '17002')
# daily_checks_bot_probe_chat_id of molecule.yml: the chat the /status probe comes from, where the bot replies.
PROBE_CHAT_ID = 4242111


def runs():
    """The run reports, oldest first."""
    found = []
    for path in glob.glob(os.path.join(REPORTS, 'daily-*', 'run.json')):
        with open(path, encoding='utf-8') as handle:
            found.append(json.load(handle))
    return sorted(found, key=lambda report: report['generated_at'])


def statuses(report):
    return {r['check']: r['status'] for r in report['hosts'][HOST]['results']}


def test_one_report_per_real_run_and_none_from_check_mode():
    # converge (healthy) + five breaks (the disk's with an expired maintenance marker) + one in a maintenance window;
    # the check-mode run writes nothing.
    assert len(runs()) == 7


def test_healthy_run_is_all_ok_and_every_check_is_there():
    first = runs()[0]
    assert first['schema'] == 'clawd.ops/checks-report' and first['schema_version'] == 1
    found = statuses(first)
    expected = {'containers', 'container_restarts', 'disk', 'memory', 'cpu', 'logs_errors', 'logs_unauthorized', 'logs_rate_limit',
                'error_rate', 'dns', 'health', 'latency', 'backup', 'webhook', 'tls_certificate', 'bot_round_trip', 'api_usage'}
    assert set(found) == expected
    assert {c for c, s in found.items() if s != 'ok'} == {'api_usage'}
    assert found['api_usage'] == 'unknown'


def test_each_break_turned_its_check():
    reports = runs()[1:2] + runs()[3:]
    assert [statuses(r)['containers'] for r in reports][0] == 'critical'
    assert statuses(reports[1])['disk'] == 'critical'
    assert statuses(reports[2])['backup'] == 'critical'
    assert statuses(reports[3])['logs_errors'] in ('warning', 'critical')
    assert statuses(reports[4])['webhook'] in ('warning', 'critical')


def test_a_host_in_maintenance_is_reported_so_and_an_expired_marker_as_a_warning():
    held, expired = runs()[2:4]  # the run in the window, then the disk's run with the expired marker
    assert held['summary']['worst'] == 'maintenance' and held['summary']['maintenance_hosts'] == [HOST]
    assert held['summary']['critical'] == 0 and held['summary']['warning'] == 0
    found = {r['check']: r for r in held['hosts'][HOST]['results']}
    assert found['containers']['status'] == 'maintenance' and found['containers']['details']['status_measured'] == 'critical'
    assert found['maintenance']['details']['reason'] == 'upgrade to molecule1, wave 1 of 1'
    assert found['maintenance']['reason'].startswith('in maintenance until ')
    assert statuses(expired)['disk'] == 'critical' and statuses(expired)['maintenance'] == 'warning'
    assert found['disk']['status'] == 'ok'
    assert expired['summary']['worst'] == 'critical'


def test_results_carry_value_reason_and_time():
    for result in runs()[0]['hosts'][HOST]['results']:
        assert result['reason'], result
        assert result['measured_at'].endswith('Z'), result
        if result['status'] != 'unknown':
            assert result['value'] is not None, result


def test_markdown_html_and_host_files_were_written():
    folder = sorted(glob.glob(os.path.join(REPORTS, 'daily-*')))[-1]
    for name in ('run.md', 'run.html', 'hosts/%s.json' % HOST, 'hosts/%s.md' % HOST):
        assert os.path.getsize(os.path.join(folder, name)) > 0, name
    with open(os.path.join(folder, 'run.html'), encoding='utf-8') as handle:
        page = handle.read()
    assert HOST in page and 'webhook' in page
    assert os.path.exists(os.path.join(REPORTS, 'latest-daily.json'))


def scenario_bot_token():
    """The bot token of this scenario's host, as .config/molecule/config.yml derives it."""
    with open(os.path.join(os.environ['CLAWD_STATE'], 'secrets', 'telegram_bot_issuer_key'), encoding='utf-8') as handle:
        key = handle.read().strip()
    bot_id = 7200000000 + int(hashlib.md5('molecule-daily_checks'.encode()).hexdigest()[:6], 16)  # nosec - not security
    return '%d:AA%s' % (bot_id, hashlib.sha256(('%s:%d' % (key, bot_id)).encode()).hexdigest()[:33])


def test_no_secret_in_any_report():
    secrets = [scenario_bot_token()]
    for name in ('telegram_bot_token', 'telegram_webhook_secret'):
        with open(os.path.join(os.environ['CLAWD_STATE'], 'secrets', name), encoding='utf-8') as handle:
            secrets.append(handle.read().strip())
    for path in glob.glob(os.path.join(REPORTS, '**', '*'), recursive=True):
        if os.path.isfile(path):
            with open(path, encoding='utf-8') as handle:
                text = handle.read()
            assert not [s for s in secrets if s and s in text], path


def test_the_bots_replies_to_the_probes_reached_telegram():
    # The role only times the webhook's answer (a bot cannot read what it sent): the replies are confirmed here.
    messages = requests.get(TELEGRAM + '/_lab/telegram/messages', timeout=10).json()
    replies = [m for m in messages if m['chat_id'] == PROBE_CHAT_ID]
    assert all(m['text'].startswith('status: ') and isinstance(m['reply_to_message_id'], int) for m in replies), replies
    # one per real run (converge, the five breaks, the run in a maintenance window); earlier runs of the scenario may have left more
    assert len(replies) >= len(runs()) == 7, replies
