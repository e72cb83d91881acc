# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The app_health module against a real HTTP server on loopback whose answers the tests script."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.conftest import RecordingClock
from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import app_health


class FakeApp(Origin):
    """A health endpoint whose answers change over time: a list of (status, body) used in turn."""

    def __init__(self):
        self.health = [(200, {'status': 'ok', 'version': '1.0.0', 'checks': {'db': {'status': 'ok'}}})]
        self.version = '{"version": "1.0.0"}'
        self.calls = 0
        Origin.__init__(self, self.answer_app)

    def answer_app(self, method, path, headers, body):
        json_type = {'Content-Type': 'application/json'}
        if path == '/health':
            status, answer = self.health[min(self.calls, len(self.health) - 1)]
            self.calls += 1
            return status, json_type, answer
        if path == '/version':
            return 200, json_type, self.version
        return 404, json_type, b'{}'


@pytest.fixture
def fake_app():
    with FakeApp() as app:
        yield app


def run_module(args):
    return run_main(app_health.main, args)


def test_healthy_app_passes_and_changes_nothing(fake_app, results):
    run_module({'url': fake_app.url + '/health', 'version_url': fake_app.url + '/version', 'expected_version': '1.0.0'})
    result = results[-1]
    assert result['failed'] is False
    assert result['changed'] is False
    assert result['healthy'] is True
    assert result['version'] == '1.0.0'
    assert result['attempts'] == 1


def test_unhealthy_app_fails_naming_the_sub_check(fake_app, results):
    fake_app.health = [(503, {'status': 'failing', 'checks': {'db': {'status': 'failed', 'reason': 'connection refused'}}})]
    run_module({'url': fake_app.url + '/health'})
    result = results[-1]
    assert result['failed'] is True
    assert result['msg'] == 'App at %s/health is not healthy: answer: HTTP 503; db: failed (connection refused)' % fake_app.url
    assert result['http_status'] == 503


def test_wrong_version_fails(fake_app, results):
    fake_app.version = '{"version": "0.9.0"}'
    run_module({'url': fake_app.url + '/health', 'version_url': fake_app.url + '/version', 'expected_version': '1.0.0'})
    assert results[-1]['failed'] is True
    assert 'version: expected 1.0.0, app reports 0.9.0' in results[-1]['msg']


def test_waits_until_the_app_becomes_healthy(fake_app, results, monkeypatch):
    starting = (503, {'status': 'starting', 'checks': {'app': {'status': 'starting'}}})
    fake_app.health = [starting, starting, (200, {'status': 'ok', 'checks': {}})]
    sleeps = []
    monkeypatch.setattr(app_health, 'time', RecordingClock(sleeps))
    run_module({'url': fake_app.url + '/health', 'wait_timeout': 10, 'wait_interval': 0.1})
    assert results[-1]['failed'] is False
    assert results[-1]['attempts'] == 3
    # Two waits of wait_interval between three answers, recorded instead of slept.
    assert sleeps == [0.1, 0.1]


def test_gives_up_after_wait_timeout(fake_app, results):
    fake_app.health = [(503, {'status': 'starting', 'checks': {}})]
    run_module({'url': fake_app.url + '/health', 'wait_timeout': 1, 'wait_interval': 0.2})
    assert results[-1]['failed'] is True
    assert 2 <= results[-1]['attempts'] <= 6


def test_unreachable_app_fails_clearly(results):
    run_module({'url': 'http://127.0.0.1:9/health', 'retries': 0, 'timeout': 2})
    result = results[-1]
    assert result['failed'] is True
    assert result['status'] == 'unreachable'
    assert result['msg'].startswith('App at http://127.0.0.1:9/health is not healthy: unreachable: ')


def test_body_that_is_not_json(fake_app, results):
    fake_app.health = [(200, b'<html>OK</html>')]
    run_module({'url': fake_app.url + '/health'})
    assert results[-1]['failed'] is True
    assert results[-1]['status'] == 'invalid'


def test_a_redirect_to_another_origin_is_followed_without_credentials(results):
    """A health endpoint may move (http to https, another port); user:password@ of the URL stays with its origin."""
    from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin, redirect_to

    def healthy(method, path, headers, body):
        return 200, {}, {'status': 'ok', 'checks': {'disk': {'status': 'ok'}}}

    with Origin(healthy) as other:
        with Origin(redirect_to(other.url + '/health', 301)) as app:
            url = app.url.replace('http://', 'http://probe:healthPASS@') + '/health'
            assert run_module({'url': url}) == 0
        assert app.requests[0]['headers']['Authorization'].startswith('Basic ')
        assert len(other.requests) == 1 and 'Authorization' not in other.requests[0]['headers']
    assert results[-1]['healthy'] is True


def test_the_password_of_the_url_is_never_in_the_result(capsys):
    """Read back as Ansible prints it (real exit_json and fail_json): the message, failed_checks and invocation."""
    from ansible.module_utils.testing import patch_module_args
    with patch_module_args({'url': 'http://probe:healthPASS-77@127.0.0.1:9/health', 'retries': 0, 'timeout': 1}):
        with pytest.raises(SystemExit) as info:
            app_health.main()
    printed = capsys.readouterr().out
    assert info.value.code == 1 and 'not healthy' in printed and '127.0.0.1:9/health' in printed
    assert 'healthPASS-77' not in printed
