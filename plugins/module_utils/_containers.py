# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Containers and their log lines, as the watch after a deploy (app_watch) and the daily checks (host_checks) read them.

Pure parts take plain data and are unit-tested on their own: the log line categories (``compile_patterns``),
the quoting of a line (``clip``), the counting of lines per category and container (``LineCounter``),
the fields of a container's state (``container_state``) and the parsing of ``docker logs --timestamps``
(``split_log``). ``DockerSource`` is the thin adapter to the Docker Engine API (the low-level
``APIClient`` of the Docker SDK: ``inspect_container`` and ``logs``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import math
import re

from ansible_collections.clawd.ops.plugins.module_utils._redact import redact

DEFAULT_PATTERNS = {
    'errors': r'\b(ERROR|CRITICAL|FATAL)\b|Traceback',
    'unauthorized': r'(?i)unauthori[sz]ed|\b401\b|forbidden',
    'rate_limit': r'(?i)rate.?limit|\b429\b|too many requests',
}
LINE_LENGTH = 200
_DOCKER_TIME = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$')


class LogConfigError(ValueError):
    """Patterns or thresholds of log lines that cannot be used; the message names the bad value."""


def compile_patterns(patterns=None):
    """Category name -> compiled regex; the defaults when patterns is empty."""
    compiled = {}
    for name, pattern in (patterns or DEFAULT_PATTERNS).items():
        try:
            compiled[str(name)] = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise LogConfigError('patterns: %s: %r is not a regular expression (%s)' % (name, pattern, exc))
    return compiled


def clip(line, secrets=()):
    """A log line fit to quote: secrets masked first, then cut to LINE_LENGTH characters."""
    line = redact(' '.join(str(line).split()), secrets)
    return line if len(line) <= LINE_LENGTH else line[:LINE_LENGTH - 3] + '...'


class LineCounter(object):
    """Log lines per category (a regex each), in all and per container, and the last line of each category."""

    def __init__(self, patterns=None):
        self.patterns = compile_patterns(patterns)
        self.counts = dict((name, 0) for name in self.patterns)
        self.by_container = {}
        self.last_line = {}

    def add_lines(self, container, lines):
        """Count lines of one container; return the new matches per category."""
        new = dict((name, 0) for name in self.patterns)
        per = self.by_container.setdefault(container, dict((name, 0) for name in self.patterns))
        for line in lines:
            for name, regex in self.patterns.items():
                if regex.search(line):
                    new[name] += 1
                    per[name] += 1
                    self.counts[name] += 1
                    self.last_line[name] = (container, line)
        return new

    def last_lines(self, secrets=()):
        """Category -> '<container>: <last line>', each line masked and cut by clip()."""
        return dict((name, '%s: %s' % (container, clip(line, secrets))) for name, (container, line) in self.last_line.items())


def container_state(attrs):
    """The fields judged of a container (status, restart count, start time, health), from `docker inspect`."""
    state = attrs.get('State') or {}
    health = state.get('Health') or {}
    log = health.get('Log') or []
    return {
        'status': 'restarting' if state.get('Restarting') else state.get('Status'),
        'exit_code': state.get('ExitCode'),
        'restart_count': attrs.get('RestartCount', 0),
        'started_at': state.get('StartedAt'),
        'health': health.get('Status'),
        'health_log': ' '.join(str(log[-1].get('Output', '')).split())[:LINE_LENGTH] if log else None,
    }


def parse_docker_time(text):
    """(epoch seconds, nanoseconds) of a Docker log timestamp (RFC 3339 with up to 9 fraction digits)."""
    match = _DOCKER_TIME.match(text)
    if not match:
        return None
    base, fraction, zone = match.groups()
    moment = datetime.datetime.fromisoformat(base + ('+00:00' if zone == 'Z' else zone))
    return int(moment.timestamp()) * 10 ** 9 + int((fraction or '0').ljust(9, '0'))


def split_log(raw, after_ns=None):
    """Lines of a `docker logs --timestamps` answer newer than after_ns, and the newest timestamp seen."""
    if isinstance(raw, bytes):
        raw = raw.decode('utf-8', 'replace')
    lines, newest = [], after_ns
    for entry in raw.splitlines():
        stamp, sep, line = entry.partition(' ')
        nanos = parse_docker_time(stamp) if sep else None
        if nanos is None:
            lines.append(entry)
            continue
        if after_ns is not None and nanos <= after_ns:
            continue  # already counted: Docker's since is inclusive
        lines.append(line)
        newest = nanos if newest is None else max(newest, nanos)
    return lines, newest


class DockerSource(object):
    """Reads container states and new log lines through a Docker SDK APIClient (client.api).

    Only ``inspect_container(name)`` and ``logs(name, stdout=, stderr=, timestamps=, since=, until=)``
    are used, so tests can pass any object that has these two methods. since: epoch seconds of the first
    line that counts. Each container's lines are read once: a later read starts after the newest line seen.
    """

    def __init__(self, api, since, not_found=()):
        self.api = api
        self.since = since
        self.not_found = tuple(not_found)
        self.seen = {}

    def state(self, name):
        """container_state() of a container, or None when it does not exist."""
        try:
            return container_state(self.api.inspect_container(name))
        except self.not_found:
            return None

    def states(self, names):
        """container -> state(container) for each name."""
        return dict((name, self.state(name)) for name in names)

    def read_lines(self, name, until=None):
        """The new log lines (stdout and stderr) of a container up to the epoch second until; None when it does not exist."""
        after = self.seen.get(name)
        since = self.since if after is None else after / 1e9
        # Whole seconds: the Docker SDK before 6.0 (Debian bookworm ships 5.0.3) refuses floats. The
        # lines of the boundary second come twice; split_log drops those already seen.
        since = int(math.floor(since))
        until = None if until is None else int(math.ceil(until))
        try:
            raw = self.api.logs(name, stdout=True, stderr=True, timestamps=True, since=since, until=until)
        except self.not_found:
            return None
        if after is None and self.since is not None:
            after = int(self.since * 1e9) - 1  # lines of the second before since are not read
        lines, newest = split_log(raw, after)
        if newest is not None:
            self.seen[name] = newest
        return lines

    def new_lines(self, name, until=None):
        """read_lines(), with no lines for a container that does not exist."""
        return self.read_lines(name, until) or []

    def lines_by_container(self, names, until=None):
        """container -> its new log lines; containers that do not exist are left out."""
        found = {}
        for name in names:
            lines = self.read_lines(name, until)
            if lines is not None:
                found[name] = lines
        return found
