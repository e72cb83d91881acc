# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Judging health answers: plain values in, verdicts out."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._app_health import evaluate_health, parse_version

HEALTHY = {'status': 'ok', 'version': '1.2.0', 'checks': {'db': {'status': 'ok'}, 'disk': {'status': 'ok', 'used_percent': 40}}}


def test_healthy_answer_is_healthy():
    result = evaluate_health(200, HEALTHY, ['db'])
    assert result == {
        'healthy': True, 'status': 'ok', 'http_status': 200, 'checks': HEALTHY['checks'],
        'failed_checks': [], 'version': '1.2.0',
    }


def test_failed_sub_check_is_named_with_its_reason():
    body = {'status': 'failing', 'checks': {'db': {'status': 'ok'}, 'app': {'status': 'failed', 'reason': 'release marked unhealthy'}}}
    result = evaluate_health(503, body)
    assert not result['healthy']
    assert result['failed_checks'] == ['answer: HTTP 503', 'app: failed (release marked unhealthy)']


def test_missing_required_check_fails_even_when_everything_reported_is_ok():
    result = evaluate_health(200, HEALTHY, ['db', 'bot'])
    assert not result['healthy']
    assert result['failed_checks'] == ['bot: missing from the health answer']


@pytest.mark.parametrize('status', ['ok', 'OK', 'healthy', 'pass', 'up'])
def test_ok_spellings(status):
    assert evaluate_health(200, {'status': status})['healthy']


def test_bad_overall_status_with_http_200_is_unhealthy():
    result = evaluate_health(200, {'status': 'degraded', 'checks': {}})
    assert not result['healthy']
    assert result['failed_checks'] == ['status: degraded']


def test_boolean_and_plain_string_sub_checks():
    result = evaluate_health(200, {'status': 'ok', 'checks': {'a': True, 'b': 'ok', 'c': False, 'd': 'timeout'}})
    assert result['failed_checks'] == ['c: False', 'd: timeout']


def test_body_that_is_not_json_object():
    result = evaluate_health(200, ['ok'])
    assert not result['healthy']
    assert result['status'] == 'invalid'


def test_unreachable():
    result = evaluate_health(0, None)
    assert result['status'] == 'unreachable'
    assert not result['healthy']


@pytest.mark.parametrize('text, version', [
    ('{"version": "1.4.2", "role": "web"}', '1.4.2'),
    ('4.3.10\n', '4.3.10'),
    ('"2.0"', '2.0'),
    ('{"role": "web"}', None),
    ('', None),
    ('[1, 2]', None),
])
def test_parse_version(text, version):
    assert parse_version(text) == version
