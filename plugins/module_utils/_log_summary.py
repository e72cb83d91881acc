# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The log lines of a window (the last hour of an incident) sorted into kinds, with bounded memory and time.

Pure parts take plain data and are unit-tested on their own: the window (``parse_window``), the kinds of a
line (``Classifier``, built on the line categories that app_watch and host_checks count, DEFAULT_PATTERNS of
module_utils/_containers), the masking of a quoted line (``mask_line``), the cutting of a byte stream into
bounded lines (``bounded_lines``) and the summary (``Summary``). ``read_container`` is the thin adapter to the
Docker Engine API (the low-level ``APIClient`` of the Docker SDK: ``inspect_container`` and ``logs``).

Bounds, whatever the log holds: at most ``max_lines`` lines per container (Docker's ``tail``: the newest ones),
at most ``max_bytes`` bytes read per container, and each line cut to LINE_BYTES bytes before it is classified.
A container whose lines were cut is named in ``cut`` with the reason.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import math
import re

from ansible_collections.clawd.ops.plugins.module_utils._containers import (
    DEFAULT_PATTERNS,
    LogConfigError,
    clip,
    compile_patterns,
    container_state,
    parse_docker_time,
)
from ansible_collections.clawd.ops.plugins.module_utils._docker import docker_host_option
from ansible_collections.clawd.ops.plugins.module_utils._time import iso, parse_time

LINE_BYTES = 4096           # a line is cut to this many bytes before it is classified
DEFAULT_MAX_LINES = 20000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def log_reader_argument_spec(since, max_lines=DEFAULT_MAX_LINES):
    """The options of every module that reads app containers' logs through the engine, defined once."""
    return dict(
        containers=dict(type='list', elements='str', required=True),
        since=dict(type='str', default=since),
        max_lines=dict(type='int', default=max_lines),
        max_bytes=dict(type='int', default=DEFAULT_MAX_BYTES),
        secrets=dict(type='list', elements='str', default=[], no_log=True),
        docker_host=docker_host_option(),
    )


def iso_epoch(epoch):
    """A moment in seconds since the epoch as UTC ISO 8601 (as the ledger writes it)."""
    return iso(datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc))


MIN_RATE_WINDOW = 60.0      # a rate per minute is never taken over less than a minute
MASK = '***'

# Kernel OOM killer (dmesg / journal), Docker's own words, and the runtime's out-of-memory errors.
OOM_PATTERN = (r'(?i)out of memory: kill(?:ed)? process|\boom[-_ ]?kill(?:er|ed)?\b|memory cgroup out of memory'
               r'|\bOOMKilled\b|\bMemoryError\b|JavaScript heap out of memory|fatal error: runtime: out of memory')
# A 401 that an upstream API answered (our key or token was refused), as opposed to a request we refused.
UPSTREAM_401_PATTERN = (r'(?i)\b(?:failed|error|upstream)\b.*\b(?:HTTP|status(?: code)?|code)[ :=]*401\b'
                        r'|\b401\b.*\b(?:from|by) (?:the )?(?:upstream|api)\b'
                        r'|\binvalid[ _-]?(?:api[ _-]?)?key\b|\bincorrect api key\b|\bauthentication_error\b'
                        r'|\bapi[ _-]?key\b.*\b(?:invalid|rejected|revoked|expired|unauthori[sz]ed)\b')
EXCEPTION_PATTERN = r'Traceback \(most recent call last\)|\b[A-Z]\w*(?:Exception|Error): |^\s*panic: |\bUnhandled(?:PromiseRejection| exception)\b'

# The kinds, in the order a line is judged (the first that matches wins). rate_limit, unauthorized and error are the
# categories app_watch watches after a deploy and host_checks counts every day: the same patterns, not a copy.
KINDS = (
    ('oom_killed', OOM_PATTERN),
    ('unauthorized_upstream', UPSTREAM_401_PATTERN),
    ('rate_limit', DEFAULT_PATTERNS['rate_limit']),
    ('unauthorized', DEFAULT_PATTERNS['unauthorized']),
    ('exception', EXCEPTION_PATTERN),
    ('error', DEFAULT_PATTERNS['errors']),
)
KIND_NAMES = tuple(name for name, dummy in KINDS)

_DURATION = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$', re.IGNORECASE)
_UNIT = {'s': 1, 'sec': 1, 'm': 60, 'min': 60, 'h': 3600, 'd': 86400}
# Secrets that a log line may carry: a Telegram token in a URL path, a bearer token, key=value pairs, API keys.
_SECRET_SHAPES = (
    (re.compile(r'(/bot)[0-9]+:[A-Za-z0-9_-]+'), r'\1' + MASK),
    (re.compile(r'\b[0-9]{6,}:[A-Za-z0-9_-]{30,}\b'), MASK),
    (re.compile(r'(?i)(\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}'), r'\1' + MASK),
    (re.compile(r'(?i)(\b[\w.-]*(?:key|token|secret|password|passwd|pwd|signature|auth)\b["\']?\s*[=:]\s*["\']?)[^\s&"\',;]+'), r'\1' + MASK),
    (re.compile(r'(://[^/\s:@]+:)[^@\s/]+@'), r'\1' + MASK + '@'),
    (re.compile(r'\b(?:sk|pk|rk|xox[abp])-[A-Za-z0-9_-]{10,}'), MASK),
    (re.compile(r'\b(?:AC|SK)[0-9a-f]{32}\b'), MASK),
)


def parse_window(since, now):
    """Seconds of the window ending at now: '1h', '15m', '90s', '2d', a number of seconds, or an ISO 8601 / epoch start."""
    text = str(since if since is not None else '').strip()
    match = _DURATION.match(text)
    if match:
        seconds = float(match.group(1)) * _UNIT[(match.group(2) or 's').lower()]
    else:
        start = parse_time(text)
        if start is None:
            raise LogConfigError('since: %r is neither a duration (1h, 15m, 90s, 2d) nor an ISO 8601 time' % (since,))
        seconds = now - start.timestamp()
    if seconds <= 0:
        raise LogConfigError('since: %r is not before now' % (since,))
    return seconds


def check_patterns(patterns):
    """[(kind, compiled)] of the extra patterns ({kind, regex} each), judged before the built-in kinds."""
    extra = []
    for index, item in enumerate(patterns or []):
        if not isinstance(item, dict) or not item.get('kind') or not item.get('regex'):
            raise LogConfigError('patterns[%d]: needs a kind and a regex, not %r' % (index, item))
        extra.extend(compile_patterns({str(item['kind']): item['regex']}).items())
    return extra


def mask_line(line, secrets=()):
    """A line fit to quote: the shapes of secrets masked, then every given secret, cut by clip()."""
    text = str(line)
    for shape, replacement in _SECRET_SHAPES:
        text = shape.sub(replacement, text)
    return clip(text, secrets)


class Classifier(object):
    """The kind of a log line: the first of the extra patterns, then of KINDS, that matches; None for an ordinary line."""

    def __init__(self, patterns=None):
        self.kinds = check_patterns(patterns) + list(compile_patterns(dict(KINDS)).items())

    def kind(self, line):
        for name, regex in self.kinds:
            if regex.search(line):
                return name
        return None


def bounded_lines(chunks, max_bytes=DEFAULT_MAX_BYTES, line_bytes=LINE_BYTES):
    """Lines (text) of a stream of byte chunks, each cut to line_bytes; stops after max_bytes.

    Yields (line, None) for each line and, when the stream is left unread, ('', reason) last. Memory is bounded by
    line_bytes whatever the chunks hold (a line of 10 MB is read through, not kept).
    """
    read = 0
    kept = bytearray()
    dropping = False
    for chunk in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode('utf-8', 'replace')
        read += len(chunk)
        start = 0
        while start < len(chunk):
            end = chunk.find(b'\n', start)
            if not dropping:
                stop = len(chunk) if end < 0 else end
                kept.extend(chunk[start:min(stop, start + line_bytes - len(kept))])   # no copy of a long line
                dropping = len(kept) >= line_bytes
            if end < 0:
                break
            yield kept.decode('utf-8', 'replace'), None
            kept = bytearray()
            dropping = False
            start = end + 1
        if read >= max_bytes:
            if kept:
                yield kept.decode('utf-8', 'replace'), None
            yield '', 'read %d bytes, the limit (max_bytes); the rest of the log was not read' % read
            return
    if kept:
        yield kept.decode('utf-8', 'replace'), None


class Summary(object):
    """Counts per kind and container over one window; feed it lines, then ask result()."""

    def __init__(self, window_seconds, start, classifier=None, secrets=()):
        self.window = float(window_seconds)
        self.start = float(start)          # epoch seconds of the window's first second
        self.classifier = classifier or Classifier()
        self.secrets = [secret for secret in secrets if secret]
        self.total = 0
        self.errors = 0
        self.counts = {}
        self.examples = {}
        self.per_container = {}
        self.oom_killed = []
        self.missing = []
        self.cut = {}
        self.errors_by_container = {}

    def container(self, name, state=None):
        """Start the record of one container; state: its `docker inspect` answer (None: it does not exist)."""
        if state is None:
            self.missing.append(name)
            self.per_container[name] = {'found': False, 'total_lines': 0, 'error_lines': 0, 'rate_per_min': 0.0, 'kinds': {},
                                        'oom_killed': False, 'truncated': False}
            return
        fields = container_state(state)
        oom = bool((state.get('State') or {}).get('OOMKilled'))
        self.per_container[name] = {
            'found': True, 'status': fields['status'], 'exit_code': fields['exit_code'], 'restart_count': fields['restart_count'],
            'started_at': fields['started_at'], 'oom_killed': oom, 'total_lines': 0, 'error_lines': 0, 'rate_per_min': 0.0,
            'kinds': {}, 'truncated': False, 'oldest_line_at': None, 'created_at': parse_docker_time(str(state.get('Created') or '')),
        }
        if oom:
            self._oom(name)

    def _oom(self, name):
        self.per_container[name]['oom_killed'] = True
        if name not in self.oom_killed:
            self.oom_killed.append(name)

    def add_line(self, name, line, nanos=None):
        """One line of a container (nanos: its Docker timestamp, when known); returns its kind or None."""
        record = self.per_container[name]
        if nanos is not None and (record.get('oldest_line_at') is None or nanos < record['oldest_line_at']):
            record['oldest_line_at'] = nanos
        self.total += 1
        record['total_lines'] += 1
        kind = self.classifier.kind(line)
        if kind is None:
            return None
        self.errors += 1
        record['error_lines'] += 1
        record['kinds'][kind] = record['kinds'].get(kind, 0) + 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.examples[kind] = (name, line)
        if kind == 'oom_killed':
            self._oom(name)
        return kind

    def unreadable(self, name, error):
        """The log of a container could not be read (to its end); why, masked."""
        self.errors_by_container[name] = mask_line('cannot read the log: %s' % error, self.secrets)

    def cut_short(self, name, reason):
        self.per_container[name]['truncated'] = True
        self.cut[name] = reason

    def _covered(self, record, now):
        """Seconds the lines of a container cover: the window, from the container's creation when it is younger (a
        release deployed ten minutes ago has ten minutes of lines), from its oldest line read when its lines were cut."""
        start = self.start
        if record.get('created_at') is not None:
            start = max(start, record['created_at'] / 1e9)
        if record.get('truncated') and record.get('oldest_line_at') is not None:
            start = max(start, record['oldest_line_at'] / 1e9)
        return max(now - start, 0.0)

    def result(self, now):
        kinds = [{'kind': kind, 'count': count, 'container': self.examples[kind][0],
                  'example': mask_line(self.examples[kind][1], self.secrets)}
                 for kind, count in sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))]
        covered, rate = 0.0, 0.0
        per_container = {}
        for name, record in self.per_container.items():
            seconds = self._covered(record, now) if record['found'] else 0.0
            container_rate = record['error_lines'] * 60.0 / max(seconds, MIN_RATE_WINDOW)
            covered, rate = max(covered, seconds), rate + container_rate
            record = dict(record, rate_per_min=round(container_rate, 2), covered_seconds=round(seconds, 1))
            record.pop('oldest_line_at', None)
            record.pop('created_at', None)
            per_container[name] = record
        return {
            'window_seconds': round(self.window, 1),
            'covered_seconds': round(covered, 1),
            'total_lines': self.total,
            'error_lines': self.errors,
            'rate_per_min': round(rate, 2),
            'kinds': kinds,
            'counts': dict(self.counts),
            'oom_killed': list(self.oom_killed),
            'upstream_key_rejected': bool(self.counts.get('unauthorized_upstream')),
            'per_container': per_container,
            'missing': list(self.missing),
            'truncated': bool(self.cut),
            'cut': dict(self.cut),
            'unreadable': dict(self.errors_by_container),
        }


def split_stamp(line):
    """(nanoseconds or None, text) of a `docker logs --timestamps` line."""
    stamp, sep, text = line.partition(' ')
    nanos = parse_docker_time(stamp) if sep else None
    return (nanos, text) if nanos is not None else (None, line)


def read_container(api, summary, name, start, now, max_lines=DEFAULT_MAX_LINES, max_bytes=DEFAULT_MAX_BYTES, not_found=(),
                   unreadable=()):
    """Feed the summary the lines of one container logged from start (epoch seconds) to now; bounded (see the file doc).

    api needs inspect_container(name) and logs(name, stdout=, stderr=, stream=, follow=, timestamps=, tail=, since=).
    An error of `unreadable` while the log is read (a logging driver that cannot be read, a stream cut) is noted for the
    container, whose lines read so far still count.
    """
    try:
        state = api.inspect_container(name)
    except tuple(not_found):
        summary.container(name, None)
        return
    summary.container(name, state)
    after = int(start * 1e9)   # Docker's since is whole seconds (the SDK before 6.0 refuses floats): drop the earlier ones
    before = int(now * 1e9)    # no until: Docker takes the tail before it applies until, which would hide a cut
    try:
        stream = api.logs(name, stdout=True, stderr=True, stream=True, follow=False, timestamps=True, tail=max_lines,
                          since=int(math.floor(start)))
    except tuple(unreadable) as exc:
        summary.unreadable(name, exc)
        return
    received = 0
    try:
        for line, reason in bounded_lines(stream, max_bytes):
            if reason:
                summary.cut_short(name, reason)
                break
            if received >= max_lines:
                summary.cut_short(name, 'more than %d lines (max_lines); the rest was not read' % max_lines)
                break
            received += 1
            nanos, text = split_stamp(line)
            if nanos is not None and nanos > before:
                break  # written after the window ended: the log is read to its end at the start, not followed
            if nanos is not None and nanos < after:
                continue
            summary.add_line(name, text, nanos)
    except tuple(unreadable) as exc:
        summary.unreadable(name, exc)
    finally:
        close = getattr(stream, 'close', None)
        if close is not None:
            close()
    if received >= max_lines and name not in summary.cut:
        summary.cut_short(name, 'the newest %d lines (max_lines) were read; older lines of the window were not' % max_lines)


def summarize(api, containers, since, now, patterns=None, max_lines=DEFAULT_MAX_LINES, max_bytes=DEFAULT_MAX_BYTES,
              secrets=(), not_found=(), unreadable=()):
    """The summary of the containers' lines of the window `since` (see parse_window) ending at now."""
    if max_lines < 1 or max_bytes < 1:
        raise LogConfigError('max_lines and max_bytes must be 1 or more')
    window = parse_window(since, now)
    summary = Summary(window, now - window, Classifier(patterns), secrets)
    for name in containers:
        read_container(api, summary, name, now - window, now, max_lines, max_bytes, not_found, unreadable)
    return summary.result(now)
