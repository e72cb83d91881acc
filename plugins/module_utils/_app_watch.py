# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The watch window after a deploy.

``Watch`` is pure: it is fed log lines, health verdicts and container states, counts lines per
category, and decides whether (and why) the release breached. It does no I/O and reads no clock;
unit tests drive it with plain data. The app_watch module feeds it from a ``DockerSource`` of
module_utils/_containers (the container and log helpers it shares with the daily checks).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.clawd.ops.plugins.module_utils._containers import LineCounter, LogConfigError, clip
from ansible_collections.clawd.ops.plugins.module_utils._redact import redact

DEFAULT_THRESHOLDS = {'errors': 10, 'unauthorized': 20, 'rate_limit': 20}
# Rates per minute are judged over at least this many seconds, so a burst in the first seconds
# is not multiplied into a huge rate.
MIN_RATE_WINDOW = 60.0

# Patterns or thresholds that cannot be used; the message names the bad value.
WatchConfigError = LogConfigError


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


def _number(value):
    return int(value) if float(value).is_integer() else round(value, 2)


class Watch(LineCounter):
    """Counts, health streak and container states of one watch window; says when it is breached."""

    def __init__(self, patterns=None, thresholds=None, thresholds_per_minute=None, max_health_failures=3, secrets=()):
        super(Watch, self).__init__(patterns)
        self.thresholds = check_thresholds(DEFAULT_THRESHOLDS if thresholds is None else thresholds, self.patterns, 'thresholds')
        self.per_minute = check_thresholds(thresholds_per_minute, self.patterns, 'thresholds_per_minute')
        self.max_health_failures = max_health_failures
        self.secrets = [s for s in secrets if s]
        self.health_failures = 0
        self.health_streak = 0
        self.last_health_problem = None
        self.health_url = None
        self.container_problem = None
        self.baseline = {}

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

    def last_lines(self, secrets=None):
        return super(Watch, self).last_lines(self.secrets if secrets is None else secrets)


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
