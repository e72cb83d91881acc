# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The app_watch module against a real HTTP server on loopback and a fake Docker API client.

The seam: app_watch.make_docker_api(docker_host) returns the low-level Docker API client; the tests
replace it with FakeDocker, which has the two methods the module uses (inspect_container, logs).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import time

import docker
import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import app_watch

SECRET = '123456:ABCdefGHIjkl_secret-TOKEN'
HEALTHY = (200, {'status': 'ok', 'checks': {'app': {'status': 'ok'}}})
FAILING = (503, {'status': 'failing', 'checks': {'app': {'status': 'failed', 'reason': 'release marked unhealthy'}}})


class FakeApp(Origin):
    """A health endpoint answering each (status, body) of `answers` in turn, the last one forever."""

    def __init__(self):
        self.answers = [HEALTHY]
        self.calls = 0
        Origin.__init__(self, self.answer_health)
        self.url = self.origin + '/health'

    def answer_health(self, method, path, headers, body):
        status, answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return status, {}, answer


class FakeDocker(object):
    """Containers that log a line per category script, with timestamps, like `docker logs --timestamps`."""

    def __init__(self):
        self.containers = {}
        self.log_calls = []

    def add(self, name, lines_per_call=(), state=None):
        self.containers[name] = {'lines': list(lines_per_call), 'calls': 0, 'states': [state or self.running()]}

    @staticmethod
    def running(restart_count=0, started_at='2026-03-02T10:00:00Z', health='healthy', status='running'):
        return {'RestartCount': restart_count, 'State': {'Status': status, 'Restarting': False, 'ExitCode': 0,
                                                         'StartedAt': started_at, 'Health': {'Status': health, 'Log': []}}}

    def inspect_container(self, name):
        if name not in self.containers:
            raise docker.errors.NotFound('No such container: %s' % name)
        entry = self.containers[name]
        return entry['states'][min(entry['calls'], len(entry['states']) - 1)]

    def logs(self, name, **kwargs):
        self.log_calls.append((name, kwargs))
        entry = self.containers[name]
        batch = entry['lines'][entry['calls']] if entry['calls'] < len(entry['lines']) else []
        entry['calls'] += 1
        stamp = time.time()
        out = []
        for index, line in enumerate(batch):
            moment = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(stamp)) + '.%09dZ' % (int(stamp % 1 * 1e6) * 1000 + index)
            out.append('%s %s' % (moment, line))
        return ('\n'.join(out) + '\n').encode() if out else b''


@pytest.fixture
def fake_app():
    with FakeApp() as app:
        yield app


class FrozenClock(object):
    """The watch loop's clock: time stands still except when the module sleeps (no test depends on the machine's speed)."""

    def __init__(self, start=1796000000.0):
        self.now = start
        self.slept = []

    def time(self):
        return self.now

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    frozen = FrozenClock()
    monkeypatch.setattr(app_watch, 'time', frozen)
    return frozen


@pytest.fixture
def fake_docker(monkeypatch):
    fake = FakeDocker()
    monkeypatch.setattr(app_watch, 'make_docker_api', lambda docker_host: fake)
    return fake


def test_quiet_release_is_watched_for_the_whole_duration(fake_app, fake_docker, results, clock):
    fake_docker.add('web', [['INFO started'], ['INFO ok']])
    assert run_main(app_watch.main, {'url': fake_app.url, 'containers': ['web'], 'duration': 1.0, 'interval': 0.25}) == 0
    result = results[-1]
    assert result['breached'] is False and result['reason'] is None and result['breach_at'] is None
    assert result['changed'] is False
    assert sum(clock.slept) == 1.0 and clock.slept == [0.25] * 4
    assert len(result['samples']) == 5
    assert all(sample['health'] == 'ok' and sample['containers'] == {'web': 'healthy'} for sample in result['samples'])
    assert result['counts'] == {'errors': 0, 'unauthorized': 0, 'rate_limit': 0}
    assert result['health_failures'] == 0


def test_error_burst_breaches_early_with_a_redacted_reason(fake_app, fake_docker, results):
    noisy = 'ERROR upstream request failed for https://api.telegram.org/bot%s/sendMessage' % SECRET
    fake_docker.add('lab1-claudebox-web', [['INFO ok'], [noisy] * 6, [noisy] * 6, [noisy] * 6])
    run_main(app_watch.main, {'url': fake_app.url, 'containers': ['lab1-claudebox-web'], 'duration': 30, 'interval': 0.2,
                              'thresholds': {'errors': 10}, 'secrets': [SECRET]})
    result = results[-1]
    assert result['failed'] is False
    assert result['breached'] is True
    assert result['elapsed'] < 5
    assert result['reason'].startswith('errors: 12 lines in 0 s (threshold 10) in lab1-claudebox-web; last: ERROR upstream request failed')
    assert [sample['counts']['errors'] for sample in result['samples']] == [0, 6, 6]
    assert result['breach_at'].endswith('Z')
    assert SECRET not in json.dumps(result)
    assert 'bot***/sendMessage' in result['last_lines']['errors']


def test_fail_on_breach_fails_the_task_with_the_reason(fake_app, fake_docker, results):
    fake_docker.add('bot', [['WARNING rate limit exceeded'] * 3])
    assert run_main(app_watch.main, {'containers': ['bot'], 'duration': 5, 'interval': 0.2, 'thresholds': {'rate_limit': 2},
                                     'fail_on_breach': True}) == 1
    assert results[-1]['msg'].startswith('The release breached its watch window: rate_limit: 3 lines in ')
    assert results[-1]['breached'] is True


def test_consecutive_health_failures_breach(fake_app, fake_docker, results):
    fake_app.answers = [HEALTHY, FAILING, HEALTHY, FAILING, FAILING, FAILING]
    run_main(app_watch.main, {'url': fake_app.url, 'duration': 10, 'interval': 0.1, 'max_health_failures': 3})
    result = results[-1]
    assert result['breached'] is True
    assert result['reason'] == ('health: 3 failed checks in a row at %s; last: answer: HTTP 503; app: failed (release marked unhealthy)'
                                % fake_app.url)
    assert [s['health'] for s in result['samples']] == ['ok', 'failing', 'ok', 'failing', 'failing', 'failing']
    assert result['health_failures'] == 4


def test_unreachable_app_counts_as_failed_checks(fake_docker, results):
    run_main(app_watch.main, {'url': 'http://127.0.0.1:9/health', 'retries': 0, 'timeout': 1, 'duration': 10, 'interval': 0.1,
                              'max_health_failures': 2})
    assert results[-1]['breached'] is True
    assert results[-1]['reason'].startswith('health: 2 failed checks in a row at http://127.0.0.1:9/health; last: unreachable: ')


def test_a_restarting_container_breaches(fake_docker, results):
    fake_docker.add('web', [[], [], []])
    entry = fake_docker.containers['web']
    entry['states'] = [FakeDocker.running(), FakeDocker.running(), FakeDocker.running(1, '2026-03-02T10:05:00Z')]
    run_main(app_watch.main, {'containers': ['web'], 'duration': 10, 'interval': 0.1})
    assert results[-1]['reason'] == 'container web restarted (restart count 0 -> 1)'


def test_docker_unhealthy_container_breaches(fake_docker, results):
    fake_docker.add('web', [], FakeDocker.running(health='unhealthy'))
    run_main(app_watch.main, {'containers': ['web'], 'duration': 10, 'interval': 0.1})
    assert results[-1]['reason'] == 'container web is unhealthy (Docker health check): no output'


def test_logs_are_read_from_since_and_never_twice(fake_docker, results):
    fake_docker.add('web', [['ERROR a', 'ERROR b'], [], []])
    run_main(app_watch.main, {'containers': ['web'], 'since': '2026-03-02T10:00:00Z', 'duration': 0.5, 'interval': 0.2,
                              'thresholds': {}})
    calls = [kwargs for name, kwargs in fake_docker.log_calls]
    assert calls[0]['since'] == 1772445600.0 and calls[0]['timestamps'] is True
    assert calls[1]['since'] > calls[0]['since']  # from the newest line seen, not from the start again
    assert results[-1]['counts']['errors'] == 2


def test_missing_container_and_bad_options_fail_before_watching(fake_docker, results):
    assert run_main(app_watch.main, {'containers': ['nope'], 'duration': 1}) == 1
    assert results[-1]['msg'] == 'Failed to watch container nope: no such container'
    assert run_main(app_watch.main, {'duration': 1}) == 1
    assert results[-1]['msg'] == 'Nothing to watch: give url, containers or both'
    fake_docker.add('web')
    assert run_main(app_watch.main, {'containers': ['web'], 'thresholds': {'error': 1}}) == 1
    assert results[-1]['msg'] == "Failed to start watching: thresholds: unknown category 'error' (categories: errors, rate_limit, unauthorized)"
    assert run_main(app_watch.main, {'containers': ['web'], 'since': 'after lunch'}) == 1
    assert results[-1]['msg'].startswith("Failed to start watching: 'after lunch' is neither")


def test_check_mode_watches_the_same(fake_docker, results):
    fake_docker.add('web', [['ERROR x'] * 2])
    run_main(app_watch.main, {'containers': ['web'], 'duration': 0, 'thresholds': {'errors': 1}, '_ansible_check_mode': True})
    assert results[-1]['breached'] is True and results[-1]['changed'] is False
