# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The release guard: a released commit watched for a while (24 h by default) by scheduled quick checks.

The state machine is pure: ``arm``, ``step`` and ``end`` take the guard as it is (a dict, or None), the time
(``now``, an aware datetime: tests freeze it) and what happened, and return ``(changed, guard, outcome)``. They
read no clock and do no I/O. ``outcome['action']`` tells the caller what to do:

- ``none``: no guard is armed (none at all, or it has ended): nothing to do;
- ``check``: a check is due; judge the logs from ``outcome['since']`` on and call ``step`` again with the verdict;
- ``ok``: the check was healthy (the count of consecutive breaches starts again);
- ``warn``: a breach, not yet ``breaches_to_roll_back`` in a row: warn only;
- ``rollback``: ``breaches_to_roll_back`` consecutive breaches: freeze the fleet, roll back to
  ``outcome['rollback_to']``, then ``end(..., 'rolled_back')``; asked for again until that is done;
- ``ended``: the guard is over (past ``until``, or ended by ``end``); ``outcome['summary']`` sums it up.

``read_guard``, ``write_guard`` and ``remove_guard`` keep the guard in a JSON file on the host, written whole.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os

from ansible_collections.clawd.ops.plugins.module_utils._files import write_atomically
from ansible_collections.clawd.ops.plugins.module_utils._time import iso, parse_time

GUARD_VERSION = 1
DEFAULT_DURATION = 86400
DEFAULT_INTERVAL = 900
DEFAULT_BREACHES = 2
DEFAULT_HISTORY = 100
# Statuses of a guard that still watches: armed, or breached with its rollback still to be done.
ACTIVE = ('armed', 'breached')
END_RESULTS = ('rolled_back', 'expired', 'disarmed')


class GuardError(Exception):
    """A guard that cannot be armed, read or written; the message says why."""


def _time(guard, key):
    return parse_time(guard[key], required=True)


def _number(value):
    return int(value) if float(value).is_integer() else value


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 'es' if word.endswith('ch') else 's')


def arm(current, now, commit, previous_commit, previous_deployment_uuid='', app='', release_version='', run_id='',
        duration=DEFAULT_DURATION, interval=DEFAULT_INTERVAL, breaches_to_roll_back=DEFAULT_BREACHES, history_max=DEFAULT_HISTORY):
    """(changed, guard): a new guard for ``commit``, unless an active guard already watches that commit."""
    if not commit:
        raise GuardError('Failed to arm the release guard: the released commit is required')
    if not previous_commit or previous_commit == commit:
        raise GuardError('Failed to arm the release guard for %s: no previous release to roll back to (got %r)' % (commit, previous_commit))
    if duration <= 0 or interval <= 0:
        raise GuardError('Failed to arm the release guard for %s: duration and interval must be more than 0 seconds' % commit)
    if breaches_to_roll_back < 1 or history_max < 1:
        raise GuardError('Failed to arm the release guard for %s: breaches_to_roll_back and history_max must be 1 or more' % commit)
    if current and current.get('status') in ACTIVE and current.get('commit') == commit:
        return False, current
    guard = {
        'version': GUARD_VERSION, 'status': 'armed', 'commit': commit, 'previous_commit': previous_commit,
        'previous_deployment_uuid': previous_deployment_uuid or '', 'app': app or '', 'release_version': release_version or '',
        'run_id': run_id or '', 'armed_at': iso(now), 'until': iso(now + datetime.timedelta(seconds=duration)),
        'duration': _number(duration), 'interval': _number(interval), 'breaches_to_roll_back': breaches_to_roll_back,
        'history_max': history_max, 'consecutive_breaches': 0, 'checks': 0, 'breaches': 0, 'last_check_at': None,
        'history': [], 'ended_at': None, 'result': None, 'reason': '',
    }
    return True, guard


def summary(guard):
    """What the guard saw, for the ledger and the message."""
    return dict((key, guard.get(key)) for key in (
        'commit', 'previous_commit', 'armed_at', 'until', 'ended_at', 'checks', 'breaches', 'result', 'reason'))


def _ended(guard, now, result, reason):
    guard = dict(guard, status='rolled_back' if result == 'rolled_back' else 'ended', ended_at=iso(now), result=result, reason=reason)
    text = {
        'rolled_back': 'rolled back to %s' % guard['previous_commit'],
        'expired': 'the watch is over',
        'disarmed': 'disarmed by hand',
    }[result]
    message = 'Release guard of %s ended (%s): %s and %s from %s to %s%s.' % (
        guard['commit'], text, _plural(guard['checks'], 'check'), _plural(guard['breaches'], 'breach'),
        guard['armed_at'], guard['ended_at'], ': %s' % reason if reason else '')
    return guard, {'action': 'ended', 'summary': summary(guard), 'message': message}


def step(guard, now, check=None):
    """(changed, guard, outcome) of one scheduled round at ``now``; ``check``: the verdict {breached, reason} or None."""
    if not guard or guard.get('status') not in ACTIVE:
        return False, guard, {'action': 'none', 'message': 'No release guard is armed.'}
    if guard['status'] == 'breached':
        outcome = _rollback_outcome(guard)
        if check is not None:
            guard = _recorded(guard, now, check)
        return False, guard, outcome
    if now >= _time(guard, 'until'):
        guard, outcome = _ended(guard, now, 'expired', '')
        return True, guard, outcome
    if check is None:
        since = _time(guard, 'last_check_at' if guard['last_check_at'] else 'armed_at')
        since = max(since, now - datetime.timedelta(seconds=guard['interval']))
        return False, guard, {'action': 'check', 'since': iso(since), 'message': 'A check of %s is due.' % guard['commit']}
    before = (guard['status'], guard['consecutive_breaches'])
    guard = _recorded(guard, now, check)
    if not check['breached']:
        guard['consecutive_breaches'] = 0
        outcome = {'action': 'ok', 'message': 'Release %s is healthy (check %d).' % (guard['commit'], guard['checks'])}
    else:
        guard['consecutive_breaches'] += 1
        guard['breaches'] += 1
        if guard['consecutive_breaches'] >= guard['breaches_to_roll_back']:
            guard['status'] = 'breached'
            outcome = _rollback_outcome(guard)
        else:
            outcome = {'action': 'warn', 'message': 'Release guard of %s: breach %d of %d in a row (a rollback at %d): %s' % (
                guard['commit'], guard['consecutive_breaches'], guard['breaches_to_roll_back'], guard['breaches_to_roll_back'],
                check.get('reason') or 'no reason given')}
    return (guard['status'], guard['consecutive_breaches']) != before, guard, outcome


def _recorded(guard, now, check):
    if not isinstance(check.get('breached'), bool):
        raise GuardError('Failed to record the check of %s: its verdict (breached: true or false) is missing' % guard['commit'])
    entry = {'at': iso(now), 'result': 'breach' if check['breached'] else 'ok'}
    if check['breached']:
        entry['reason'] = check.get('reason') or ''
    history = (guard['history'] + [entry])[-guard['history_max']:]
    guard = dict(guard, history=history, last_check_at=iso(now), checks=guard['checks'] + 1)
    if check['breached']:
        guard['last_breach'] = entry['reason']
    return guard


def _rollback_outcome(guard):
    return {'action': 'rollback', 'rollback_to': guard['previous_commit'],
            'reason': guard.get('last_breach') or '',
            'message': 'Release guard of %s: %d consecutive breaches; rolling back to %s: %s' % (
                guard['commit'], guard['consecutive_breaches'], guard['previous_commit'], guard.get('last_breach') or '')}


def end(guard, now, result, reason=''):
    """(changed, guard, outcome): the guard ended with ``result`` (rolled_back, disarmed); an ended guard stays as it is."""
    if result not in END_RESULTS:
        raise GuardError('Failed to end the release guard: result must be one of %s, got %r' % (', '.join(END_RESULTS), result))
    if not guard:
        return False, guard, {'action': 'none', 'message': 'No release guard is armed.'}
    if guard.get('status') not in ACTIVE:
        return False, guard, {'action': 'ended', 'summary': summary(guard), 'message': 'The release guard of %s has ended already.' % guard['commit']}
    guard, outcome = _ended(guard, now, result, reason)
    return True, guard, outcome


def read_guard(path):
    """The guard kept at path, or None when there is none."""
    try:
        with open(path) as handle:
            content = handle.read()
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise GuardError('Failed to read the release guard %s: %s' % (path, exc))
    try:
        guard = json.loads(content)
    except ValueError as exc:
        raise GuardError('Failed to read the release guard %s: not JSON (%s)' % (path, exc))
    if not isinstance(guard, dict) or 'status' not in guard:
        raise GuardError('Failed to read the release guard %s: not a release guard' % path)
    return guard


def write_guard(path, guard):
    """Write the guard whole (a temporary file renamed over it), readable by all (it holds no secret)."""
    try:
        write_atomically(path, json.dumps(guard, sort_keys=True, indent=2) + '\n', folder_mode=0o755)
    except (IOError, OSError) as exc:
        raise GuardError('Failed to write the release guard %s: %s' % (path, exc))


def remove_guard(path):
    try:
        os.unlink(path)
    except OSError as exc:
        if os.path.exists(path):
            raise GuardError('Failed to remove the release guard %s: %s' % (path, exc))
