# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The log summary of an incident: kinds, window, masking, bounds, and the reading of Docker's log stream (a fake engine)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import docker
import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _log_summary as ls
from ansible_collections.clawd.ops.plugins.module_utils._containers import DEFAULT_PATTERNS

NOW = 1780000000.0   # the frozen clock of these tests
TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'

# What the lab's sample app logs for APP_LOG_ERRORS_PER_MIN, APP_LOG_UNAUTHORIZED_PER_MIN, APP_LOG_RATELIMIT_PER_MIN,
# and what it logs when the Bot API refuses its token.
SAMPLE_ERROR = '2026-03-02T10:00:00Z ERROR upstream request failed: simulated error'
SAMPLE_UNAUTHORIZED = '2026-03-02T10:00:00Z WARNING unauthorized request rejected from 127.0.0.1 (simulated)'
SAMPLE_RATE_LIMIT = '2026-03-02T10:00:00Z WARNING rate limit exceeded for api.telegram.org (simulated)'
SAMPLE_TOKEN_REFUSED = '2026-03-02T10:00:00Z ERROR getMe failed: HTTP 401 Unauthorized'


def stamp(epoch):
    """Docker's --timestamps prefix of a moment."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f000Z')


@pytest.mark.parametrize('line, kind', [
    (SAMPLE_ERROR, 'error'),
    (SAMPLE_UNAUTHORIZED, 'unauthorized'),
    (SAMPLE_RATE_LIMIT, 'rate_limit'),
    (SAMPLE_TOKEN_REFUSED, 'unauthorized_upstream'),
    ('ERROR anthropic call failed: status 401 invalid x-api-key', 'unauthorized_upstream'),
    ('openai.AuthenticationError: Incorrect API key provided: sk-abc', 'unauthorized_upstream'),
    ('127.0.0.1 "POST /telegram/webhook" 401', 'unauthorized'),
    ('WARNING unauthorized webhook call rejected: bad secret token', 'unauthorized'),
    ('ERROR sendMessage failed: HTTP 429 Too Many Requests: retry after 5', 'rate_limit'),
    ('Traceback (most recent call last):', 'exception'),
    ("ERROR internal error on GET /x: KeyError: 'a'", 'exception'),
    ('[12345.678] Out of memory: Killed process 4242 (python3) total-vm:1024kB', 'oom_killed'),
    ('Memory cgroup out of memory: Killed process 77 (node)', 'oom_killed'),
    ('CRITICAL database unavailable', 'error'),
    ('INFO 127.0.0.1 "GET /health" 200', None),
    ('INFO telegram command /status answered in chat 42', None),
])
def test_the_kinds_tell_the_sample_apps_lines_apart(line, kind):
    assert ls.Classifier().kind(line) == kind


def test_the_kinds_share_the_categories_of_app_watch_and_host_checks():
    kinds = dict(ls.KINDS)
    assert kinds['rate_limit'] is DEFAULT_PATTERNS['rate_limit']
    assert kinds['unauthorized'] is DEFAULT_PATTERNS['unauthorized']
    assert kinds['error'] is DEFAULT_PATTERNS['errors']


def test_extra_patterns_come_first_and_bad_ones_are_refused():
    classifier = ls.Classifier([{'kind': 'db_locked', 'regex': 'database is locked'}])
    assert classifier.kind('ERROR database is locked') == 'db_locked'
    assert classifier.kind('ERROR other') == 'error'
    with pytest.raises(ls.LogConfigError, match='not a regular expression'):
        ls.Classifier([{'kind': 'x', 'regex': '('}])
    with pytest.raises(ls.LogConfigError, match=r'patterns\[0\]: needs a kind and a regex'):
        ls.Classifier([{'regex': 'a'}])


@pytest.mark.parametrize('since, seconds', [('1h', 3600), ('15m', 900), ('90s', 90), ('2d', 172800), ('600', 600),
                                            ('2026-05-28T19:26:40Z', 3600)])
def test_the_window(since, seconds):
    assert ls.parse_window(since, NOW) == seconds


@pytest.mark.parametrize('since', ['an hour', '0', '2027-01-01T00:00:00Z', ''])
def test_a_window_that_cannot_be_used_is_refused(since):
    with pytest.raises(ls.LogConfigError, match='since'):
        ls.parse_window(since, NOW)


@pytest.mark.parametrize('line, secret', [
    ('ERROR POST https://api.telegram.org/bot%s/getMe failed' % TOKEN, TOKEN.split(':')[1]),
    ('calling with %s' % TOKEN, TOKEN.split(':')[1]),
    ('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig', 'eyJhbGciOiJIUzI1NiJ9'),
    ('GET /x?api_key=s3cr3tvalue&x=1 401', 's3cr3tvalue'),
    ('password=hunter2hunter2 refused', 'hunter2hunter2'),
    ('connect postgres://app:pa55word@db/app failed', 'pa55word'),
    ('anthropic key sk-ant-api03-abcdefghijklmnop rejected', 'abcdefghijklmnop'),
])
def test_quoted_lines_are_masked(line, secret):
    masked = ls.mask_line(line)
    assert secret not in masked
    assert '***' in masked


def test_a_given_secret_is_masked_and_a_quoted_line_is_cut():
    masked = ls.mask_line('ERROR the value plainsecret leaked ' + 'x' * 500, ['plainsecret'])
    assert 'plainsecret' not in masked
    assert len(masked) == 200


class Lazy(object):
    """A stream of chunks made on demand (never held): counts how many were asked for, and whether it was closed."""

    def __init__(self, chunk, count):
        self.chunk = chunk
        self.count = count
        self.taken = 0
        self.closed = False

    def __iter__(self):
        while self.taken < self.count:
            self.taken += 1
            yield self.chunk

    def close(self):
        self.closed = True


def test_a_log_of_a_gigabyte_is_read_to_max_bytes_only():
    chunk = b'ERROR x\n' * 8192   # 64 KiB
    stream = Lazy(chunk, 16384)   # 1 GiB declared
    lines = list(ls.bounded_lines(iter(stream), max_bytes=1024 * 1024))
    assert stream.taken == 16     # 1 MiB, not 1 GiB
    assert lines[-1][1].startswith('read 1048576 bytes, the limit (max_bytes)')
    assert len(lines) == 16 * 8192 + 1


def test_a_line_of_10_mb_is_cut_and_not_kept():
    stream = [b'2026-03-02T10:00:00Z ERROR ' + b'y' * 65536] * 160 + [b'\nnext line\n']   # one 10 MB line, in pieces
    lines = [line for line, reason in ls.bounded_lines(stream)]
    assert len(lines) == 2
    assert len(lines[0]) == ls.LINE_BYTES and lines[0].startswith('2026-03-02T10:00:00Z ERROR yyy')
    assert lines[1] == 'next line'


def test_binary_junk_is_read_as_text():
    junk = bytes(range(256)) * 64 + b'\n\xff\xfe ERROR after junk\n'
    lines = [line for line, reason in ls.bounded_lines([junk[:1000], junk[1000:]])]
    assert len(lines) == 66 and lines[-1].endswith('ERROR after junk')
    assert ls.Classifier().kind(lines[-1]) == 'error'


class FakeEngine(object):
    """A container's log and state, read like the Docker engine does: tail (newest lines) first, then since.

    It refuses a follow (the stream would never end) and the until option (Docker takes the tail before until).
    """

    def __init__(self):
        self.containers = {}
        self.streams = []

    def add(self, name, lines, oom=False, status='running', created=None):
        """lines: (epoch, text) pairs, oldest first; created: epoch of the container's creation (unknown when None)."""
        self.containers[name] = {'lines': lines, 'state': {'RestartCount': 0, 'Created': stamp(created) if created else None, 'State': {
            'Status': status, 'OOMKilled': oom, 'ExitCode': 137 if oom else 0, 'StartedAt': '2026-03-02T09:00:00Z'}}}

    def inspect_container(self, name):
        if name not in self.containers:
            raise KeyError(name)
        return self.containers[name]['state']

    def logs(self, name, stdout=True, stderr=True, stream=False, follow=None, timestamps=False, tail='all', since=None, **other):
        assert stream and follow is False and timestamps and not other
        lines = self.containers[name]['lines']
        if tail != 'all':
            lines = lines[-tail:]
        data = b''.join(('%s %s\n' % (stamp(epoch), text)).encode() for epoch, text in lines if since is None or epoch >= since)
        self.streams.append(Lazy(data, 1))
        return self.streams[-1]


class SdkEngine(FakeEngine):
    """FakeEngine answering NotFound like the Docker SDK, or failing like an engine that went away (module tests)."""

    def __init__(self, broken=False):
        FakeEngine.__init__(self)
        self.broken = broken

    def inspect_container(self, name):
        if self.broken:
            raise docker.errors.APIError('500 Server Error: engine shutting down')
        if name not in self.containers:
            raise docker.errors.NotFound('No such container: %s' % name)
        return self.containers[name]['state']


class FrozenClock(object):
    """The modules' ``time``: always NOW."""

    def time(self):
        return NOW


def summarize(engine, names, since='1h', **options):
    return ls.summarize(engine, names, since, NOW, not_found=(KeyError,), **options)


def test_the_window_of_several_containers_by_kind():
    engine = FakeEngine()
    engine.add('web', [(NOW - 4000, SAMPLE_ERROR)] + [(NOW - 3000 + i, SAMPLE_ERROR) for i in range(30)]
               + [(NOW - 100, SAMPLE_RATE_LIMIT), (NOW - 50, 'INFO ok'), (NOW + 5, SAMPLE_ERROR)])
    engine.add('bot', [(NOW - 10, SAMPLE_TOKEN_REFUSED.replace('getMe', 'getMe /bot%s/' % TOKEN)), (NOW - 9, SAMPLE_UNAUTHORIZED)])
    result = summarize(engine, ['web', 'bot', 'gone'])
    assert result['total_lines'] == 34        # the line before the window and the one after now are not counted
    assert result['error_lines'] == 33
    assert result['rate_per_min'] == 0.55     # 33 lines over 60 minutes
    assert [(kind['kind'], kind['count']) for kind in result['kinds']] == [
        ('error', 30), ('rate_limit', 1), ('unauthorized', 1), ('unauthorized_upstream', 1)]
    upstream = result['kinds'][-1]
    assert upstream['container'] == 'bot' and TOKEN.split(':')[1] not in upstream['example'] and 'HTTP 401' in upstream['example']
    assert result['upstream_key_rejected'] is True
    assert result['missing'] == ['gone'] and result['per_container']['gone']['found'] is False
    assert result['per_container']['web']['kinds'] == {'error': 30, 'rate_limit': 1}
    assert result['truncated'] is False and result['oom_killed'] == []
    assert all(stream.closed for stream in engine.streams)


def test_oom_killed_from_the_state_and_from_the_log():
    engine = FakeEngine()
    engine.add('web', [(NOW - 10, 'INFO ok')], oom=True, status='exited')
    engine.add('bot', [(NOW - 10, 'Memory cgroup out of memory: Killed process 7 (python3)')])
    engine.add('worker', [(NOW - 10, 'INFO fine')])
    result = summarize(engine, ['web', 'bot', 'worker'])
    assert result['oom_killed'] == ['web', 'bot']
    assert result['per_container']['web']['status'] == 'exited' and result['per_container']['web']['exit_code'] == 137


def test_max_lines_reads_the_newest_and_says_it_was_cut():
    engine = FakeEngine()
    engine.add('web', [(NOW - 3000 + i, SAMPLE_ERROR if i % 2 else 'INFO ok') for i in range(1000)])
    result = summarize(engine, ['web'], max_lines=100)
    assert result['total_lines'] == 100 and result['error_lines'] == 50
    assert result['truncated'] is True
    assert result['cut'] == {'web': 'the newest 100 lines (max_lines) were read; older lines of the window were not'}
    # the rate is over what the lines read cover (100 s, at least a minute), not over the hour
    assert result['covered_seconds'] == pytest.approx(2100, abs=1)
    assert result['rate_per_min'] == pytest.approx(50 * 60 / 2100.0, abs=0.01)


def test_an_engine_that_ignores_tail_is_still_bounded():
    engine = FakeEngine()
    engine.add('web', [(NOW - 30, 'INFO %d' % i) for i in range(500)])
    engine.logs = lambda name, **options: Lazy(b''.join(('%s INFO x\n' % stamp(NOW - 30)).encode() for dummy in range(500)), 1)
    result = summarize(engine, ['web'], max_lines=20)
    assert result['total_lines'] == 20
    assert result['cut'] == {'web': 'more than 20 lines (max_lines); the rest was not read'}


def test_max_bytes_stops_a_huge_log():
    engine = FakeEngine()
    engine.add('web', [])
    big = Lazy(('%s ERROR %s\n' % (stamp(NOW - 5), 'z' * 1000)).encode() * 64, 10 ** 6)   # about 64 GB declared
    engine.logs = lambda name, **options: big
    result = summarize(engine, ['web'], max_bytes=1024 * 1024)
    assert big.taken <= 17 and big.closed
    assert result['per_container']['web']['truncated'] is True
    assert result['cut']['web'].startswith('read ')


def test_bad_limits_are_refused():
    with pytest.raises(ls.LogConfigError, match='max_lines and max_bytes'):
        summarize(FakeEngine(), [], max_lines=0)


def test_the_rate_of_a_container_younger_than_the_window_is_over_its_life():
    engine = FakeEngine()
    # a release deployed five minutes ago logs 6 errors a minute; the old web of the whole hour 1 a minute
    engine.add('new', [(NOW - 300 + 10 * i, SAMPLE_ERROR) for i in range(30)], created=NOW - 300)
    engine.add('old', [(NOW - 3600 + 60 * i, SAMPLE_ERROR) for i in range(60)], created=NOW - 86400)
    result = summarize(engine, ['new', 'old'])
    assert result['per_container']['new']['rate_per_min'] == 6.0 and result['per_container']['new']['covered_seconds'] == 300
    assert result['per_container']['old']['rate_per_min'] == 1.0 and result['per_container']['old']['covered_seconds'] == 3600
    assert result['rate_per_min'] == 7.0
    assert result['covered_seconds'] == 3600


class Unreadable(Exception):
    pass


def test_a_log_that_cannot_be_read_is_noted_and_the_others_still_count():
    engine = FakeEngine()
    engine.add('syslogged', [])
    engine.add('web', [(NOW - 10, SAMPLE_ERROR)])
    logs = engine.logs

    def refuse(name, **options):
        if name == 'syslogged':
            raise Unreadable('501 Server Error: configured logging driver does not support reading')
        return logs(name, **options)
    engine.logs = refuse
    result = ls.summarize(engine, ['syslogged', 'web'], '1h', NOW, not_found=(KeyError,), unreadable=(Unreadable,))
    assert result['unreadable'] == {'syslogged': 'cannot read the log: 501 Server Error: configured logging driver does not support reading'}
    assert result['error_lines'] == 1

    def cut_stream(name, **options):
        def chunks():
            yield ('%s ERROR first\n' % stamp(NOW - 5)).encode()
            raise Unreadable('connection reset by peer token=abcdefgh12345')
        return chunks()
    engine.logs = cut_stream
    result = ls.summarize(engine, ['web'], '1h', NOW, not_found=(KeyError,), unreadable=(Unreadable,))
    assert result['error_lines'] == 1
    assert result['unreadable'] == {'web': 'cannot read the log: connection reset by peer token=***'}
