# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The maintenance marker of a host: a file on the host that says it is in a maintenance window, and what that means
for the daily checks.

The marker is a JSON object::

    {"maintenance": true, "since": "2026-12-07T03:00:00Z", "until": "2026-12-07T05:00:00Z",
     "reason": "upgrade to 3f2a9c1, wave 2 of 4", "run_id": "upgrade-20261207T030000Z", "commit": "3f2a9c1", "who": "ops@laptop"}

``until`` is required: a marker always ends, so that an upgrade that crashed before it cleared its marker never
silences a host for good. While ``since <= now < until`` the window is open: the daily checks report every check of
the host that is not ok with the status ``maintenance`` (the measured status kept in its details), which counts
neither as a warning nor as critical and sends no notification. After ``until`` the marker is ignored and reported
as a warning (``maintenance window expired at ...``); a marker that cannot be read is a warning too.

Nothing here knows Ansible: the module clawd.ops.maintenance_window writes and removes the file with
ensure_present/ensure_absent, and the daily checks' judgement calls mark_results with what it read from the host.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import json
import os

from ansible_collections.clawd.ops.plugins.module_utils._checks import MAINTENANCE, OK, WARNING, make_result, utc_stamp
from ansible_collections.clawd.ops.plugins.module_utils._files import write_atomically
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time, utc_now  # utc_now: the one clock here (tests freeze it)

CHECK = 'maintenance'
MARKER_KEYS = ('maintenance', 'since', 'until', 'reason', 'run_id', 'commit', 'who')
# What makes two markers the same window: a second `present` of the same run keeps the first one's since and until.
SAME_WINDOW_KEYS = ('reason', 'run_id', 'commit', 'who')
MARKER_READ_LIMIT = 64 << 10  # bytes of a marker file read; a marker is a few hundred


class MaintenanceError(ValueError):
    """A marker that cannot be used; the message says why."""


def _moment(now):
    if now is None:
        return utc_now()
    moment = parse_time(now, epoch=True)
    if moment is None:
        raise MaintenanceError('now is not a time: %r' % (now,))
    return moment


# ---------------------------------------------------------------- the marker

def build_marker(reason, seconds, run_id='', commit='', who='', now=None):
    """A marker of a window that opens now and ends ``seconds`` later."""
    if not str(reason or '').strip():
        raise MaintenanceError('a maintenance window needs a reason')
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        raise MaintenanceError('a maintenance window must end: its length must be more than 0 seconds, not %r' % (seconds,))
    start = _moment(now)
    return {'maintenance': True, 'since': utc_stamp(start), 'until': utc_stamp(start + datetime.timedelta(seconds=seconds)),
            'reason': str(reason).strip(), 'run_id': run_id or '', 'commit': commit or '', 'who': who or ''}


def parse_marker(raw):
    """The marker of a file's text (or bytes); MaintenanceError when it is not a JSON object with a readable until."""
    if isinstance(raw, bytes):
        raw = raw.decode('utf-8', 'replace')
    try:
        marker = json.loads(raw)
    except ValueError as exc:
        raise MaintenanceError('not JSON: %s' % exc)
    if not isinstance(marker, dict):
        raise MaintenanceError('not a JSON object but %s' % type(marker).__name__)
    if parse_time(marker.get('until')) is None:
        raise MaintenanceError('its until (%r) is not an ISO 8601 time: a window without an end is not honoured' % (marker.get('until'),))
    if marker.get('since') is not None and parse_time(marker.get('since')) is None:
        raise MaintenanceError('its since (%r) is not an ISO 8601 time' % (marker.get('since'),))
    return dict((key, marker.get(key)) for key in MARKER_KEYS if key in marker)


def window_state(marker, now=None):
    """``open`` while since <= now < until, ``expired`` from until on, ``planned`` before since."""
    moment = _moment(now)
    if moment >= parse_time(marker['until']):
        return 'expired'
    since = parse_time(marker.get('since'))
    if since is not None and moment < since:
        return 'planned'
    return 'open'


def describe(marker):
    """``upgrade to abc (run r1, commit abc, by ops@laptop)`` - the why and the who of a marker, for a reason."""
    about = ['%s %s' % (label, marker[key]) for key, label in (('run_id', 'run'), ('commit', 'commit'), ('who', 'by')) if marker.get(key)]
    return '%s%s' % (marker.get('reason') or 'no reason given', ' (%s)' % ', '.join(about) if about else '')


# ---------------------------------------------------------------- what the daily checks make of it

def from_slurp(registered):
    """(marker or None, problem or None) from the registered result of ansible.builtin.slurp of the marker.

    No file (slurp's "file not found"), or a task that did not run: no marker and no problem.
    """
    if not isinstance(registered, dict) or not registered or registered.get('skipped'):
        return None, None
    if registered.get('content') is None:
        message = str(registered.get('msg') or '')
        if not registered.get('failed') or 'not found' in message.lower():
            return None, None
        return None, message or 'it could not be read'
    try:
        raw = base64.b64decode(registered['content'])
    except (TypeError, ValueError) as exc:
        return None, 'its content is not base64: %s' % exc
    try:
        return parse_marker(raw), None
    except MaintenanceError as exc:
        return None, str(exc)


def mark_results(results, registered, now=None, path=None):
    """The results of one host with its maintenance marker (slurp's registered result) taken into account.

    An open window: every result that is not ok gets the status ``maintenance`` (the measured status kept in
    details.status_measured, the reason prefixed), and a ``maintenance`` result saying until when and why comes
    first. An expired or unreadable marker: the results as they are, and a ``maintenance`` warning first. A
    planned window: the results as they are, and an ok ``maintenance`` result naming it. No marker: the results.
    """
    marker, problem = from_slurp(registered)
    where = path or (registered or {}).get('source') or 'the maintenance marker'
    stamp = utc_stamp(_moment(now))
    if problem is not None:
        return [make_result(CHECK, WARNING, 'the maintenance marker %s cannot be used (%s): the host is checked as usual' % (where, problem),
                            measured_at=stamp)] + list(results)
    if marker is None:
        return list(results)
    state = window_state(marker, now)
    if state == 'expired':
        reason = 'maintenance window expired at %s: %s; the host is checked as usual (the marker %s was left behind)' % (
            marker['until'], describe(marker), where)
        return [make_result(CHECK, WARNING, reason, measured_at=stamp, details=marker)] + list(results)
    if state == 'planned':
        reason = 'a maintenance window is planned from %s to %s: %s' % (marker.get('since'), marker['until'], describe(marker))
        return [make_result(CHECK, OK, reason, measured_at=stamp, details=marker)] + list(results)
    held = [item for item in results if item.get('status') != OK]
    reason = 'in maintenance until %s: %s%s' % (marker['until'], describe(marker), '; held back: %s' % ', '.join(
        '%s %s' % (item.get('check'), item.get('status')) for item in held) if held else '')
    marked = [make_result(CHECK, MAINTENANCE, reason, measured_at=stamp, details=marker)]
    for item in results:
        if item.get('status') == OK:
            marked.append(item)
            continue
        item = dict(item)
        item['details'] = dict(item.get('details') or {}, status_measured=item.get('status'))
        item['reason'] = 'in maintenance until %s (measured %s): %s' % (marker['until'], item.get('status'), item.get('reason'))
        item['status'] = MAINTENANCE
        marked.append(item)
    return marked


# ---------------------------------------------------------------- the file on the host

def read_as_slurp(path, limit=MARKER_READ_LIMIT):
    """The marker file at path as ansible.builtin.slurp would have registered it, for from_slurp() and mark_results():
    C(content) (base64) and C(source); no file: {} (no window); unreadable or over `limit` bytes: C(failed) and C(msg)."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read(limit + 1)
    except (IOError, OSError) as exc:
        if getattr(exc, 'errno', None) == 2:
            return {}
        return {'failed': True, 'msg': 'cannot read %s: %s' % (path, exc.strerror or exc), 'source': path}
    if len(raw) > limit:
        return {'failed': True, 'msg': 'it is over %d bytes, which no marker is' % limit, 'source': path}
    return {'content': base64.b64encode(raw).decode('ascii'), 'encoding': 'base64', 'source': path}


def read_marker(path):
    """(marker or None, problem or None) of the file at path; no file: (None, None)."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, 'errno', None) == 2:
            return None, None
        raise
    try:
        return parse_marker(raw), None
    except MaintenanceError as exc:
        return None, str(exc)


def ensure_present(path, marker, check_mode=False, now=None):
    """Write the marker unless the file holds the same window of the same run, still open.

    Returns {changed, before, after, problem}: before is the marker read (None: no file, or unreadable - then problem).
    """
    before, problem = read_marker(path)
    same = before is not None and all(before.get(key) == marker.get(key) for key in SAME_WINDOW_KEYS) \
        and window_state(before, now) == 'open'
    if same:
        return {'changed': False, 'before': before, 'after': before, 'problem': problem}
    if not check_mode:
        write_atomically(path, json.dumps(marker, indent=2, sort_keys=True) + '\n', folder_mode=0o755)
    return {'changed': True, 'before': before, 'after': marker, 'problem': problem}


def ensure_absent(path, check_mode=False):
    """Remove the marker. Returns {changed, before, after, problem}."""
    if not os.path.lexists(path):
        return {'changed': False, 'before': None, 'after': None, 'problem': None}
    before, problem = read_marker(path)
    if not check_mode:
        os.unlink(path)
    return {'changed': True, 'before': before, 'after': None, 'problem': problem}
