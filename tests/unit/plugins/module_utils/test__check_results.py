# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Judging what app_health, backup_verify, telegram_webhook_info, get_certificate and the bot probe measured."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar

from ansible_collections.clawd.ops.plugins.module_utils import _check_results as j

NOW = calendar.timegm((2026, 12, 1, 7, 0, 0))
SKIPPED = {'skipped': True, 'skip_reason': 'Conditional result was False'}


def test_health_ok_unhealthy_unreachable_and_not_run():
    ok = {'healthy': True, 'status': 'ok', 'http_status': 200, 'checks': {'app': {'status': 'ok'}}, 'version': '1.0.0', 'elapsed_ms': 12}
    assert j.judge_health(ok)['status'] == 'ok'
    bad = {'healthy': False, 'status': 'failed', 'http_status': 503, 'checks': {'bot': {'status': 'failed'}},
           'failed_checks': ['bot: bot health not reachable']}
    result = j.judge_health(bad)
    assert result['status'] == 'critical' and 'bot health not reachable' in result['reason'] and result['value'] == 1
    gone = {'healthy': False, 'status': 'unreachable', 'http_status': 0, 'failed_checks': ['unreachable: refused']}
    assert j.judge_health(gone)['reason'].startswith('unreachable')
    assert j.judge_health(SKIPPED)['status'] == 'unknown' and 'Conditional' in j.judge_health(SKIPPED)['reason']
    assert j.judge_health(None)['status'] == 'unknown'


def test_latency_from_the_health_answer():
    assert j.judge_latency({'http_status': 200, 'elapsed_ms': 499})['status'] == 'ok'
    assert j.judge_latency({'http_status': 200, 'elapsed_ms': 500})['status'] == 'warning'
    result = j.judge_latency({'http_status': 503, 'elapsed_ms': 2500}, {'latency': {'warning': 100, 'critical': 2000}})
    assert result['status'] == 'critical' and '2500 ms' in result['reason'] and 'warning at 100 ms' in result['reason']
    assert j.judge_latency({'http_status': 0, 'elapsed_ms': 10})['status'] == 'unknown'


def verify(age_hours, broken=None, archive='/b/claudebox-20261130T020000Z-1.0.0.tar.zst'):
    checks = [{'name': 'exists', 'ok': True}, {'name': 'age', 'ok': age_hours < 49, 'reason': 'old'}]
    if broken:
        checks.append({'name': broken, 'ok': False, 'reason': 'checksum mismatch'})
    return {'archive': archive, 'ok': not broken, 'checks': checks, 'age_seconds': age_hours * 3600.0, 'failed': False}


def test_backup_age_in_hours_and_the_age_check_ignored():
    assert j.judge_backup(verify(5))['status'] == 'ok'
    assert j.judge_backup(verify(30))['status'] == 'warning'
    result = j.judge_backup(verify(60))
    assert result['status'] == 'critical' and result['value'] == 60.0 and result['unit'] == 'h'
    assert 'claudebox-20261130T020000Z-1.0.0.tar.zst is 60 h old' in result['reason']


def test_backup_broken_or_missing_is_critical():
    result = j.judge_backup(verify(1, broken='sha256'))
    assert result['status'] == 'critical' and 'sha256: checksum mismatch' in result['reason']
    missing = {'archive': None, 'ok': False, 'checks': [{'name': 'exists', 'ok': False, 'reason': 'no archive matching *.tar.* in /b'}]}
    result = j.judge_backup(missing)
    assert result['status'] == 'critical' and 'no archive matching' in result['reason']


def test_backup_age_from_the_name_when_not_returned():
    found = {'archive': '/b/x.tar.zst', 'checks': [], 'created': '2026-11-30T07:00:00Z'}
    assert j.judge_backup(found, now=NOW)['value'] == 24.0


def info(url='https://lab.test/telegram/webhook', pending=0, error_date=None):
    return {'webhook': {'url': url, 'pending_update_count': pending, 'last_error_date': error_date,
                        'last_error_date_iso': '2026-12-01T06:00:00Z' if error_date else None,
                        'last_error_message': 'Wrong response from the webhook: 502 Bad Gateway' if error_date else None}}


def test_webhook_pending_recent_error_and_unset():
    assert j.judge_webhook(info(), now=NOW)['status'] == 'ok'
    assert j.judge_webhook(info(pending=10), now=NOW)['status'] == 'warning'
    assert j.judge_webhook(info(pending=100), now=NOW)['status'] == 'critical'
    result = j.judge_webhook(info(error_date=NOW - 3600), now=NOW)
    assert result['status'] == 'warning' and '502 Bad Gateway' in result['reason']
    assert j.judge_webhook(info(error_date=NOW - 25 * 3600), now=NOW)['status'] == 'ok'
    assert j.judge_webhook(info(url=''), now=NOW)['status'] == 'critical'
    assert j.judge_webhook({'failed': True, 'msg': 'Failed to read webhook: HTTP 401'})['reason'].endswith('HTTP 401')


def test_certificate_days_left_lower_is_worse():
    assert j.judge_certificate({'not_after': '20270101070000Z', 'expired': False}, now=NOW)['status'] == 'ok'
    result = j.judge_certificate({'not_after': '20261215070000Z', 'expired': False}, now=NOW)
    assert result['status'] == 'warning' and result['value'] == 14.0 and 'expires in 14 days' in result['reason']
    assert j.judge_certificate({'not_after': '20261205070000Z'}, now=NOW)['status'] == 'critical'
    result = j.judge_certificate({'not_after': '20261101070000Z', 'expired': True}, now=NOW)
    assert result['status'] == 'critical' and 'expired' in result['reason']
    assert j.judge_certificate({'failed': True, 'msg': 'connection refused'})['status'] == 'unknown'


def test_bot_round_trip():
    assert j.judge_bot({'status': 200, 'elapsed_ms': 150})['status'] == 'ok'
    assert 'answered /status in 0.15 s' in j.judge_bot({'status': 200, 'elapsed_ms': 150})['reason']
    assert j.judge_bot({'status': 200, 'elapsed_ms': 2500})['status'] == 'warning'
    assert j.judge_bot({'status': 200, 'elapsed_ms': 5000})['status'] == 'critical'
    result = j.judge_bot({'status': 401, 'elapsed_ms': 10, 'error': 'the webhook answered HTTP 401'})
    assert result['status'] == 'critical' and 'HTTP 401' in result['reason']
    assert j.judge_bot(SKIPPED)['status'] == 'unknown'


def test_api_usage_unknown_without_budget_and_source():
    result = j.judge_api_usage()
    assert result['status'] == 'unknown' and 'no budget and no usage source' in result['reason']
    assert j.judge_api_usage(usage=50, budget=100)['status'] == 'ok'
    assert j.judge_api_usage(usage=85, budget=100)['status'] == 'warning'
    assert j.judge_api_usage(usage=120, budget=100)['status'] == 'critical'


def test_judge_host_keeps_host_results_and_reports_every_judged_check():
    host = {'results': [{'check': 'disk', 'status': 'ok', 'value': 1, 'reason': 'fine', 'measured_at': 'x'}]}
    results = j.judge_host({'host_checks': host, 'health': SKIPPED}, checks=['health', 'api_usage'])
    assert [r['check'] for r in results] == ['disk', 'health', 'api_usage']
    assert [r['status'] for r in results] == ['ok', 'unknown', 'unknown']


def test_judge_host_unreachable_host_still_lists_every_check():
    results = j.judge_host({'host_checks_expected': ['disk', 'dns']}, checks=['backup'])
    assert [(r['check'], r['status']) for r in results] == [('disk', 'unknown'), ('dns', 'unknown'), ('backup', 'unknown')]
