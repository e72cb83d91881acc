# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The watch window after a deploy.

``Watch`` is pure: it is fed log lines, health verdicts and container states, counts lines per
category, and decides whether (and why) the release breached. It does no I/O and reads no clock;
unit tests drive it with plain data. ``DockerSource`` is the thin adapter to the Docker Engine API
(the low-level ``APIClient`` of the Docker SDK: ``inspect_container`` and ``logs``), which the
app_watch module feeds into a Watch.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import math
import re

from ansible_collections.clawd.ops.plugins.module_utils._transport import redact

DEFAULT_PATTERNS = {
    'errors': r'\b(ERROR|CRITICAL|FATAL)\b|Traceback',
    'unauthorized': r'(?i)unauthori[sz]ed|\b401\b|forbidden',
    'rate_limit': r'(?i)rate.?limit|\b429\b|too many requests',
}
DEFAULT_THRESHOLDS = {'errors': 10, 'unauthorized': 20, 'rate_limit': 20}
LINE_LENGTH = 200
# Rates per minute are judged over at least this many seconds, so a burst in the first seconds
# is not multiplied into a huge rate.
MIN_RATE_WINDOW = 60.0
_DOCKER_TIME = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$')


class WatchConfigError(ValueError):
    """Patterns or thresholds that cannot be used; the message names the bad value."""


def compile_patterns(patterns=None):
    """Category name -> compiled regex; the defaults when patterns is empty."""
    compiled = {}
    for name, pattern in (patterns or DEFAULT_PATTERNS).items():
        try:
            compiled[str(name)] = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise WatchConfigError('patterns: %s: %r is not a regular expression (%s)' % (name, pattern, exc))
    return compiled


def check_thresholds(thresholds, categories, option):
    """Validated copy of a thresholds dict: known categories, numbers >= 0."""
    result = {}
    for name, value in (thresholds or {}).items():
        if name not in categories:
            raise WatchConfigError('%s: unknown category %r (categories: %s)' % (option, name, ', '.join(sorted(categories))))
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise WatchConfigError('%s: %s: %r is not a number' % (option, name, value))
        if number < 0 or isinstance(value, bool):
            raise WatchConfigError('%s: %s: %r must be a number, 0 or more' % (option, name, value))
        result[name] = number
    return result


def clip(line, secrets=()):
    """A log line fit to quote: secrets masked first, then cut to LINE_LENGTH characters."""
    line = redact(' '.join(str(line).split()), secrets)
    return line if len(line) <= LINE_LENGTH else line[:LINE_LENGTH - 3] + '...'


def _number(value):
    return int(value) if float(value).is_integer() else round(value, 2)


class Watch(object):
    """Counts, health streak and container states of one watch window; says when it is breached."""

    def __init__(self, patterns=None, thresholds=None, thresholds_per_minute=None, max_health_failures=3, secrets=()):
        self.patterns = compile_patterns(patterns)
        self.thresholds = check_thresholds(DEFAULT_THRESHOLDS if thresholds is None else thresholds, self.patterns, 'thresholds')
        self.per_minute = check_thresholds(thresholds_per_minute, self.patterns, 'thresholds_per_minute')
        self.max_health_failures = max_health_failures
        self.secrets = [s for s in secrets if s]
        self.counts = dict((name, 0) for name in self.patterns)
        self.by_container = {}
        self.last_line = {}
        self.health_failures = 0
        self.health_streak = 0
        self.last_health_problem = None
        self.health_url = None
        self.container_problem = None
        self.baseline = {}

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

    def add_health(self, healthy, problem=None, url=None):
        """One health check: a failure extends the streak of consecutive failures, a success ends it."""
        self.health_url = url or self.health_url
        if healthy:
            self.health_streak = 0
        else:
            self.health_failures += 1
            self.health_streak += 1
            self.last_health_problem = problem

    def add_container(self, name, state):
        """One container state: {status, restart_count, started_at, health, exit_code} or None when gone.

        The first state of a container is its baseline; later ones are judged against it.
        """
        if name not in self.baseline:
            self.baseline[name] = state
        problem = judge_container(name, self.baseline[name], state)
        if problem and self.container_problem is None:
            self.container_problem = problem
        return problem

    def _quote(self, name):
        container, line = self.last_line.get(name, (None, ''))
        return clip(line, self.secrets)

    def _where(self, name):
        hits = sorted(((per[name], container) for container, per in self.by_container.items() if per.get(name)), reverse=True)
        if len(hits) == 1:
            return hits[0][1]
        return ', '.join('%s (%d)' % (container, count) for count, container in hits)

    def breach(self, elapsed):
        """The reason of the first breach, one sentence, or None. elapsed: seconds since the window opened."""
        if self.container_problem:
            return self.container_problem
        if self.max_health_failures and self.health_streak >= self.max_health_failures:
            return 'health: %d failed checks in a row%s; last: %s' % (
                self.health_streak, ' at %s' % self.health_url if self.health_url else '', redact(self.last_health_problem, self.secrets))
        seconds = int(round(elapsed))
        for name in self.patterns:
            count = self.counts[name]
            limit = self.thresholds.get(name)
            if limit is not None and count > limit:
                return '%s: %d lines in %d s (threshold %s) in %s; last: %s' % (
                    name, count, seconds, _number(limit), self._where(name), self._quote(name))
            limit = self.per_minute.get(name)
            rate = count * 60.0 / max(elapsed, MIN_RATE_WINDOW)
            if limit is not None and rate > limit:
                return '%s: %d lines in %d s, %s per minute (threshold %s per minute) in %s; last: %s' % (
                    name, count, seconds, _number(rate), _number(limit), self._where(name), self._quote(name))
        return None

    def last_lines(self):
        return dict((name, '%s: %s' % (container, clip(line, self.secrets))) for name, (container, line) in self.last_line.items())


def judge_container(name, baseline, state):
    """Why a container is not fine compared with its baseline, or None."""
    if state is None:
        return 'container %s is gone' % name
    if state.get('status') != 'running':
        return 'container %s is %s (exit code %s)' % (name, state.get('status'), state.get('exit_code'))
    if baseline is not None and (state.get('restart_count') or 0) > (baseline.get('restart_count') or 0):
        return 'container %s restarted (restart count %s -> %s)' % (name, baseline.get('restart_count'), state.get('restart_count'))
    if baseline is not None and baseline.get('started_at') and state.get('started_at') != baseline.get('started_at'):
        return 'container %s restarted (started again at %s)' % (name, state.get('started_at'))
    if state.get('health') == 'unhealthy':
        return 'container %s is unhealthy (Docker health check): %s' % (name, state.get('health_log') or 'no output')
    return None


def container_state(attrs):
    """The fields a Watch judges, from `docker inspect` of a container."""
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
    are used, so tests can pass any object that has these two methods.
    """

    def __init__(self, api, since, not_found=()):
        self.api = api
        self.since = since
        self.not_found = tuple(not_found)
        self.seen = {}

    def state(self, name):
        try:
            return container_state(self.api.inspect_container(name))
        except self.not_found:
            return None

    def new_lines(self, name, until):
        after = self.seen.get(name)
        since = self.since if after is None else after / 1e9
        # Whole seconds: the Docker SDK before 6.0 (Debian bookworm ships 5.0.3) refuses floats. The
        # lines of the boundary second come twice; split_log drops those already seen.
        since = int(math.floor(since))
        until = None if until is None else int(math.ceil(until))
        try:
            raw = self.api.logs(name, stdout=True, stderr=True, timestamps=True, since=since, until=until)
        except self.not_found:
            return []
        if after is None and self.since is not None:
            after = int(self.since * 1e9) - 1  # lines of the second before the watch began are not its own
        lines, newest = split_log(raw, after)
        if newest is not None:
            self.seen[name] = newest
        return lines
