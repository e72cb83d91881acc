# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Containers and their log lines as app_watch and host_checks read them: patterns, counting, quoting, states, docker logs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._containers import (
    DockerSource,
    LineCounter,
    LogConfigError,
    clip,
    compile_patterns,
    container_state,
    parse_docker_time,
    split_log,
)


def test_line_counter_counts_per_category_and_container_and_keeps_the_last_line():
    counter = LineCounter()
    assert counter.add_lines('web', ['ERROR one', 'INFO fine', 'HTTP 401 from upstream']) == {'errors': 1, 'unauthorized': 1, 'rate_limit': 0}
    assert counter.add_lines('bot', ['ERROR two', '429 Too Many Requests']) == {'errors': 1, 'unauthorized': 0, 'rate_limit': 1}
    assert counter.counts == {'errors': 2, 'unauthorized': 1, 'rate_limit': 1}
    assert counter.by_container == {'web': {'errors': 1, 'unauthorized': 1, 'rate_limit': 0},
                                    'bot': {'errors': 1, 'unauthorized': 0, 'rate_limit': 1}}
    assert counter.last_lines() == {'errors': 'bot: ERROR two', 'unauthorized': 'web: HTTP 401 from upstream',
                                    'rate_limit': 'bot: 429 Too Many Requests'}


def test_bad_patterns_are_named():
    assert list(compile_patterns({'oom': 'Out of memory'})) == ['oom']
    with pytest.raises(LogConfigError, match=r"patterns: bad: '\(' is not a regular expression"):
        compile_patterns({'bad': '('})
    with pytest.raises(LogConfigError, match=r'patterns: num: 5 is not a regular expression'):
        LineCounter({'num': 5})


def test_secrets_are_masked_before_lines_are_cut():
    secret = 'tok-' + 'S' * 30
    line = 'x' * 190 + ' ERROR auth with ' + secret
    assert clip(line, [secret]) == 'x' * 190 + ' ERROR ...'
    assert len(clip(line, [secret])) == 200
    assert secret[:8] not in clip(line, [secret])
    assert clip('ERROR token ' + secret, [secret]) == 'ERROR token ***'
    counter = LineCounter()
    counter.add_lines('web', ['ERROR bad login for ' + secret])
    assert counter.last_lines([secret]) == {'errors': 'web: ERROR bad login for ***'}


def test_container_state_from_inspect():
    attrs = {'RestartCount': 2, 'State': {'Status': 'running', 'Restarting': False, 'ExitCode': 0, 'StartedAt': 't',
                                          'Health': {'Status': 'unhealthy', 'Log': [{'Output': 'old'}, {'Output': 'curl:\n 503'}]}}}
    assert container_state(attrs) == {'status': 'running', 'exit_code': 0, 'restart_count': 2, 'started_at': 't',
                                      'health': 'unhealthy', 'health_log': 'curl: 503'}
    assert container_state({'State': {'Status': 'running', 'Restarting': True}})['status'] == 'restarting'


def test_docker_timestamps_and_split_log():
    first = parse_docker_time('2026-03-02T10:15:20.123456789Z')
    assert first == parse_docker_time('2026-03-02T10:15:20Z') + 123456789
    assert parse_docker_time('2026-03-02T11:15:20.5+01:00') == parse_docker_time('2026-03-02T10:15:20Z') + 500000000
    assert parse_docker_time('garbage') is None
    raw = ('2026-03-02T10:15:20.100000000Z ERROR one\n2026-03-02T10:15:20.2Z ERROR two\n'
           '2026-03-02T10:15:21Z INFO three\n').encode()
    lines, newest = split_log(raw)
    assert lines == ['ERROR one', 'ERROR two', 'INFO three']
    again, newest_again = split_log(raw, after_ns=parse_docker_time('2026-03-02T10:15:20.2Z'))
    assert again == ['INFO three']
    assert newest == newest_again == parse_docker_time('2026-03-02T10:15:21Z')


class FakeAPI(object):
    def __init__(self):
        self.calls = []
        self.raw = b''

    def logs(self, name, **kwargs):
        self.calls.append(kwargs)
        return self.raw

    def inspect_container(self, name):
        raise KeyError(name)


def test_docker_source_asks_from_since_then_from_the_newest_line():
    api = FakeAPI()
    source = DockerSource(api, since=1000.5, not_found=(KeyError,))
    # Whole seconds go to Docker (its SDK before 6.0 refuses floats); a line from before since does not count.
    api.raw = b'1970-01-01T00:16:40.200000000Z ERROR before\n2026-03-02T10:15:20Z ERROR one\n'
    assert source.new_lines('web', until=2000.2) == ['ERROR one']
    assert api.calls[0] == dict(stdout=True, stderr=True, timestamps=True, since=1000, until=2001)
    assert source.new_lines('web', until=2010.0) == []  # the same line again is not counted twice
    assert api.calls[1]['since'] == int(parse_docker_time('2026-03-02T10:15:20Z') // 10**9)
    assert source.state('web') is None


class GoneAPI(FakeAPI):
    """A container web that answers, one called gone that does not exist."""

    class Gone(Exception):
        pass

    def inspect_container(self, name):
        if name == 'gone':
            raise self.Gone(name)
        return {'RestartCount': 1, 'State': {'Status': 'running', 'ExitCode': 0, 'StartedAt': 'x'}}

    def logs(self, name, **kwargs):
        if name == 'gone':
            raise self.Gone(name)
        return super(GoneAPI, self).logs(name, **kwargs)


def test_states_and_lines_by_container_leave_out_what_does_not_exist():
    api = GoneAPI()
    api.raw = b'line one\nline two\n'
    source = DockerSource(api, since=1000.7, not_found=(GoneAPI.Gone,))
    states = source.states(['web', 'gone'])
    assert states['gone'] is None and states['web']['restart_count'] == 1
    assert source.lines_by_container(['web', 'gone']) == {'web': ['line one', 'line two']}
    assert api.calls == [dict(stdout=True, stderr=True, timestamps=True, since=1000, until=None)]
    assert source.read_lines('gone') is None and source.new_lines('gone') == []
