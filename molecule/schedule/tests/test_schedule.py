# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scenario schedule: cron starts the brought-forward runbook, its output is logged, its failure reaches the Telegram
stand-in; the lock, pause and resume, the list and the log rotation of clawd-schedule."""

import os
import re
import time

import requests

testinfra_hosts = ['all']  # pylint: disable=invalid-name

TELEGRAM = 'http://127.0.0.1:%s' % os.environ.get('CLAWD_PORT_TELEGRAM', '17002')
CHAT_ID = 4242207  # schedule_notify_telegram_chat_id of molecule.yml
LOGS = '/var/log/clawd-ops'
STATE = '/var/lib/clawd-ops/schedule'
# Cron starts the brought-forward runbook at the next minute; the run fails once its preflight refuses (the inventory
# sets none of what daily_checks needs, exit 2), which under CI's load can take a minute of Ansible start-up. Polled,
# not slept: the bound only ends a wait that would never succeed.
CRON_WAIT_POLLS = 300
FINISHED = re.compile(r'finished: exit (\d+), log (\S+)')


def as_deploy(host, command):
    return host.run("sudo -u deploy -H sh -c '%s'" % command)


def run_logs(host, name):
    found = host.run('ls %s/%s/ 2>/dev/null' % (LOGS, name)).stdout.split()
    return sorted(f for f in found if f.startswith('run-') and f.endswith('.log'))


def journal(host, name):
    return host.file('%s/%s/runs.log' % (LOGS, name)).content_string


def finished_runs(host, name):
    """(rc, log path) of every finished run in the runbook's journal, oldest first."""
    text = host.run('cat %s/%s/runs.log 2>/dev/null' % (LOGS, name)).stdout
    return [(int(rc), path) for rc, path in FINISHED.findall(text)]


def while_no_run_holds_the_lock(host, name, command):
    """Run `command` holding the runbook's lock, so that no run (cron's included) is halfway through."""
    return as_deploy(host, 'flock %s/%s.lock %s' % (STATE, name, command))


def test_cron_starts_the_brought_forward_runbook_and_its_output_is_logged(host):
    for _poll in range(CRON_WAIT_POLLS):
        finished = finished_runs(host, 'daily_checks')
        if finished:
            break
        time.sleep(1)
    assert finished, 'cron started no run of daily_checks that finished'
    rc, log = finished[-1]
    assert rc == 2
    text = host.file(log).content_string
    assert 'clawd.ops.daily_checks' in text.splitlines()[0]
    assert 'PLAY RECAP' in text and 'gone-01.example.com' in text
    assert 'gone-01.example.com        : ok=1    changed=0    unreachable=0    failed=1' in text  # its preflight refuses
    status = host.file('%s/daily_checks.last.json' % STATE)
    assert status.user == 'deploy'
    assert '"rc": 2' in status.content_string


def test_the_failure_is_sent_to_the_operators_chat_without_the_token(host):
    logs = ['%s/daily_checks/%s' % (LOGS, name) for name in run_logs(host, 'daily_checks')]
    sent = [m for m in requests.get(TELEGRAM + '/_lab/telegram/messages', timeout=10).json()
            if str(m['chat_id']) == str(CHAT_ID) and any(log in m['text'] for log in logs)]
    assert sent, 'no failure message names one of the runs logged now'
    assert sent[-1]['text'].startswith('clawd.ops: the scheduled run of daily_checks on molecule-schedule failed (exit 2).')
    assert 'notified: the failure was sent to Telegram chat %s' % CHAT_ID in journal(host, 'daily_checks')
    token = host.file('/etc/clawd-ops/schedule-notify.json')
    assert token.mode == 0o600 and token.user == 'deploy'
    assert 'bot' not in journal(host, 'daily_checks')


def test_cron_entries_one_per_runbook_paused_one_commented_out(host):
    cron = host.file('/etc/cron.d/clawd-ops').content_string
    assert '\n* * * * * deploy /usr/local/bin/clawd-schedule run daily_checks\n' in cron
    assert '\n15 2 * * * deploy /usr/local/bin/clawd-schedule run backup\n' in cron
    assert '\n#0 3 * * 0 deploy /usr/local/bin/clawd-schedule run weekly_maintenance\n' in cron
    # -q: 0 at the first match even when a process of the glob went away before grep read it (exit 2 otherwise).
    assert host.run('grep -qsx cron /proc/[0-9]*/comm').rc == 0


def test_list_shows_schedules_pauses_and_last_runs(host):
    listed = as_deploy(host, 'clawd-schedule list')
    assert listed.rc == 0
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert set(rows) == {'daily_checks', 'backup', 'weekly_maintenance'}
    assert 'active' in rows['daily_checks'] and 'exit 2' in rows['daily_checks']
    assert 'paused' in rows['weekly_maintenance']
    assert rows['backup'].split()[-1] == '-'


def test_one_run_at_a_time_the_second_is_skipped_and_logged(host):
    held = as_deploy(host, 'flock %s/backup.lock clawd-schedule run backup' % STATE)
    assert held.rc == 0
    assert 'skipped: the previous run still holds the lock' in journal(host, 'backup')
    assert not run_logs(host, 'backup')


def test_pause_and_resume(host):
    assert as_deploy(host, 'clawd-schedule pause backup').rc == 0
    assert as_deploy(host, 'clawd-schedule run backup').rc == 0
    assert 'skipped: paused' in journal(host, 'backup')
    assert not run_logs(host, 'backup')
    assert 'paused' in as_deploy(host, 'clawd-schedule list').stdout.split('\nbackup', 1)[1].splitlines()[0]
    assert as_deploy(host, 'clawd-schedule resume backup').rc == 0
    assert 'active' in as_deploy(host, 'clawd-schedule list').stdout.split('\nbackup', 1)[1].splitlines()[0]


def test_old_run_logs_are_removed(host):
    # Cron starts daily_checks every minute: a manual run it overlaps is skipped, so run until four more have finished.
    finished = len(finished_runs(host, 'daily_checks'))
    for _attempt in range(12):
        if len(finished_runs(host, 'daily_checks')) >= finished + 4:
            break
        as_deploy(host, 'clawd-schedule run daily_checks')
    assert len(finished_runs(host, 'daily_checks')) >= finished + 4
    listed = while_no_run_holds_the_lock(host, 'daily_checks', 'ls %s/daily_checks/' % LOGS).stdout.split()
    assert len([f for f in listed if f.startswith('run-')]) == 3  # schedule_log_keep
