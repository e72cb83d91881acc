# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host-wide operations lock: one file that says which run may deploy, roll back, restore, back up or prune.

The lock is a lease. Its file records the run that holds it (``run_id``, ``owner``, ``purpose``, ``host``) and
``taken_at``, ``renewed_at``, ``expires_at``. Another run may take it over only after ``expires_at``; the holder
renews it (same run id) before each long phase with a lease that covers that phase's worst case, so a live run
is never taken over. A renewal never shortens the lease (a nested role's short renewal keeps its caller's long one).

The file is created atomically with its whole content (hard-linked into place, or ``O_EXCL`` where links do not
work), so of two runs that race exactly one gets it; a takeover, renewal or release replaces or removes the file
only if it is still the one that was read (under ``flock``), so of two runs that race for an expired lock exactly
one wins. Nothing here knows Ansible: the module formats results, and tests can race processes on it directly."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import fcntl
import json
import os
import socket
import tempfile
import time

from ansible_collections.clawd.ops.plugins.module_utils._files import ensure_folder

TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
ATTEMPTS = 5


def now():
    """Seconds since the epoch (the one clock of this module; tests freeze it)."""
    return time.time()


def format_time(seconds):
    return time.strftime(TIME_FORMAT, time.gmtime(int(seconds)))


def parse_time(text):
    """Seconds since the epoch of a TIME_FORMAT text, or None when it is not one."""
    try:
        return calendar.timegm(time.strptime(text, TIME_FORMAT))
    except (TypeError, ValueError):
        return None


def duration_text(seconds):
    """``1h 6m 40s`` for 4000."""
    seconds = int(max(seconds, 0))
    parts = [(seconds // 86400, 'd'), (seconds % 86400 // 3600, 'h'), (seconds % 3600 // 60, 'm'), (seconds % 60, 's')]
    text = ' '.join('%d%s' % (value, unit) for value, unit in parts if value)
    return text or '0s'


class LockError(Exception):
    """The lock could not be taken, renewed or released; ``holder`` is the lock that stood in the way (or None)."""

    def __init__(self, message, holder=None):
        super(LockError, self).__init__(message)
        self.holder = holder


def holder_of(content):
    """The public view of a lock: run_id, owner, purpose, taken_at, expires_at (None for no lock)."""
    if content is None:
        return None
    return dict((key, content.get(key)) for key in ('run_id', 'owner', 'purpose', 'taken_at', 'expires_at'))


def describe(content):
    return '%s (run %s, %s)' % (content.get('owner'), content.get('run_id'), content.get('purpose'))


def read_lock(path):
    """(raw bytes, content dict or None, problem or None); raw is None when there is no lock."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        if not os.path.lexists(path):
            return None, None, None
        return b'', None, 'cannot be read (%s)' % (exc.strerror or exc)
    try:
        content = json.loads(raw.decode('utf-8'))
    except ValueError:
        return raw, None, 'is not a lock this module wrote (not JSON)'
    if not isinstance(content, dict) or not content.get('run_id'):
        return raw, None, 'is not a lock this module wrote (no run_id)'
    return raw, content, None


def expires_at(path, content, hold_for):
    """When the lease of this lock ends, in seconds since the epoch.

    A lock without ``expires_at`` (written before locks were leases) ends ``hold_for`` after it was taken
    (``taken_at``, else ``acquired_at``, else the file's mtime)."""
    recorded = parse_time(content.get('expires_at'))
    if recorded is not None:
        return recorded
    taken = parse_time(content.get('taken_at')) or parse_time(content.get('acquired_at'))
    if taken is None:
        try:
            taken = os.stat(path).st_mtime
        except OSError:
            taken = now()
    return taken + hold_for


def _temp_with(path, content):
    fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
    with os.fdopen(fd, 'w') as handle:
        json.dump(content, handle, sort_keys=True)
        handle.write('\n')
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, 0o644)
    return temp


def create_lock(path, content):
    """Create the lock atomically with its whole content; False when it already exists."""
    temp = _temp_with(path, content)
    try:
        try:
            os.link(temp, path)
            return True
        except OSError:
            if os.path.lexists(path):
                return False
        # A filesystem without hard links: O_EXCL, then write.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError:
            if os.path.lexists(path):
                return False
            raise
        with os.fdopen(fd, 'w') as handle:
            json.dump(content, handle, sort_keys=True)
            handle.write('\n')
        return True
    finally:
        os.unlink(temp)


def replace_if_unchanged(path, expected_raw, content):
    """Replace (content) or remove (None) the lock only if it is still the file that held expected_raw."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if not os.path.lexists(path):
            return False
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Whoever replaced the file before we got the flock did so on another inode: start over.
        try:
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                return False
        except OSError:
            return False
        with os.fdopen(os.dup(fd), 'rb') as handle:
            if handle.read() != expected_raw:
                return False
        if content is None:
            os.unlink(path)
        else:
            os.replace(_temp_with(path, content), path)
        return True
    finally:
        os.close(fd)


def acquire(path, run_id, owner, purpose, hold_for, check_mode=False, host=None):
    """Take or renew the lock for run_id, holding it for hold_for seconds from now.

    Returns a dict: ``outcome`` (``acquired``: it was free; ``taken_over``: the other run's lease had ended;
    ``renewed``: this run held it already), ``changed`` (whether the file was written, or would be in check
    mode), ``lock`` (its content after), ``before`` (its content before, None when free).
    Raises LockError when another run holds the lock, or when the file is not a lock."""
    path = os.path.abspath(path)
    for dummy in range(ATTEMPTS):
        moment = int(now())
        raw, held, problem = read_lock(path)
        if raw is None:
            mine = {
                'run_id': run_id, 'owner': owner, 'purpose': purpose, 'host': host or socket.gethostname(),
                'taken_at': format_time(moment), 'renewed_at': format_time(moment),
                'expires_at': format_time(moment + hold_for),
            }
            if not check_mode:
                ensure_folder(os.path.dirname(path))
                if not create_lock(path, mine):
                    continue  # another run was faster: look again
            return dict(outcome='acquired', changed=True, lock=mine, before=None)
        if problem:
            raise LockError('Refusing to %s: %s exists but %s; it counts as held. Remove it only if no run holds it.'
                            % (purpose, path, problem))
        ends = expires_at(path, held, hold_for)
        if held['run_id'] == run_id:
            renewed = dict(held, owner=held.get('owner') or owner, renewed_at=format_time(moment),
                           expires_at=format_time(max(ends, moment + hold_for)))
            renewed.setdefault('taken_at', held.get('acquired_at') or format_time(moment))
            renewed.pop('acquired_at', None)
            if parse_time(renewed['expires_at']) == parse_time(held.get('expires_at')):
                return dict(outcome='renewed', changed=False, lock=held, before=held)  # the lease covers it already
            if check_mode or replace_if_unchanged(path, raw, renewed):
                return dict(outcome='renewed', changed=True, lock=renewed, before=held)
            continue
        if moment < ends:
            shown = dict(held, expires_at=format_time(ends), taken_at=held.get('taken_at') or held.get('acquired_at'))
            raise LockError('Refusing to %s: %s is held by %s since %s, until %s (%s from now). The holder renews it '
                            'while it runs; remove it only if that run is dead.'
                            % (purpose, path, describe(held), shown['taken_at'], shown['expires_at'],
                               duration_text(ends - moment)), holder=shown)
        mine = {
            'run_id': run_id, 'owner': owner, 'purpose': purpose, 'host': host or socket.gethostname(),
            'taken_at': format_time(moment), 'renewed_at': format_time(moment), 'expires_at': format_time(moment + hold_for),
        }
        if check_mode or replace_if_unchanged(path, raw, mine):
            before = dict(held, expires_at=format_time(ends), taken_at=held.get('taken_at') or held.get('acquired_at'))
            return dict(outcome='taken_over', changed=True, lock=mine, before=before, expired_for=moment - ends)
    raise LockError('Failed to take the lock %s: it kept changing under us' % path)


def release(path, run_id, force=False, check_mode=False):
    """Remove the lock if run_id holds it (or anyone does, with force).

    Returns a dict: ``outcome`` (``released``, ``free``: there was no lock, ``not_ours``: another run holds it and
    it was kept, ``forced``: another run's lock, or a file that is not a lock, was removed), ``changed``,
    ``lock`` (its content after), ``before``. Raises LockError for a file that is not a lock, without force."""
    path = os.path.abspath(path)
    for dummy in range(ATTEMPTS):
        raw, held, problem = read_lock(path)
        if raw is None:
            return dict(outcome='free', changed=False, lock=None, before=None)
        if held is not None and held['run_id'] != run_id and not force:
            return dict(outcome='not_ours', changed=False, lock=held, before=held)
        if problem and not force:
            raise LockError('Failed to release the lock %s: it %s; use force=true to remove it anyway' % (path, problem))
        outcome = 'released' if held is not None and held['run_id'] == run_id else 'forced'
        if check_mode or replace_if_unchanged(path, raw, None):
            return dict(outcome=outcome, changed=True, lock=None, before=held)
    raise LockError('Failed to release the lock %s: it kept changing under us' % path)
