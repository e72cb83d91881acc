# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which backup archives of a folder to keep: restic-like keep-last/daily/weekly rules, with guards.

An archive is verified when its .sha256 file exists (the writer writes it only after the archive
verified). The newest verified archive is never deleted; when the newest archive is not verified
(the last backup failed or was not made by backup_archive), nothing is deleted at all.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import errno
import fnmatch
import os
import shutil
import stat
import time

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    SIDE_SUFFIXES,
    SUFFIX_MANIFEST,
    SUFFIX_PARTIAL,
    SUFFIX_SHA256,
    MissingLibraryError,
    parse_archive_name,
    read_sha256_file,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import verify_archive

# backup_archive keeps its SQLite copies in <archive>.dumps.partial while it runs.
_DUMPS_PARTIAL = '.dumps' + SUFFIX_PARTIAL


class RetentionError(Exception):
    """An expected failure: the message says what was wrong."""


def _utc(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)


def _gone(exc):
    return isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.ENOTDIR)


def _size(path):
    """Bytes of a file, or of everything in a folder (0 when it is gone: another run may have removed it)."""
    if os.path.isdir(path) and not os.path.islink(path):
        total = 0
        for root, dummy, files in os.walk(path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    pass
        return total
    try:
        return os.lstat(path).st_size
    except OSError as exc:
        if _gone(exc):
            return 0
        raise RetentionError('cannot read %s: %s' % (path, exc.strerror or exc))


def _lstat(entry):
    """The entry's lstat, or None when it vanished since the folder was listed."""
    try:
        return entry.stat(follow_symlinks=False)
    except OSError as exc:
        if _gone(exc):
            return None
        raise RetentionError('cannot read %s: %s' % (entry.path, exc.strerror or exc))


def scan_folder(folder, pattern='*.tar.*'):
    """The archives and the .partial leftovers of a folder.

    Archives are the files whose name matches pattern and does not end with .sha256,
    .manifest.json or .partial: dicts with path, name, timestamp (from the UTC time in the name,
    else the mtime), time_from (name or mtime), verified (a .sha256 beside it), size. Partials
    are the files and folders ending with .partial whose name without it matches pattern: dicts
    with path, name, mtime and size.
    """
    if not os.path.isdir(folder):
        raise RetentionError('the folder %s does not exist' % folder)
    archives = []
    partials = []
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError as exc:
        raise RetentionError('cannot list the folder %s: %s' % (folder, exc.strerror or exc))
    for entry in entries:
        name = entry.name
        if name.endswith(SUFFIX_PARTIAL):
            stem = name[:-len(SUFFIX_PARTIAL)]
            if name.endswith(_DUMPS_PARTIAL):
                stem = name[:-len(_DUMPS_PARTIAL)]
            if fnmatch.fnmatch(stem, pattern):
                st = _lstat(entry)
                if st is not None:
                    partials.append({'path': entry.path, 'name': name, 'mtime': st.st_mtime, 'size': _size(entry.path)})
            continue
        if name.endswith(SIDE_SUFFIXES) or not fnmatch.fnmatch(name, pattern):
            continue
        st = _lstat(entry)
        if st is None or not stat.S_ISREG(st.st_mode):
            continue
        parsed = parse_archive_name(name)
        archives.append({
            'path': entry.path,
            'name': name,
            'timestamp': parsed['timestamp'] if parsed else st.st_mtime,
            'time_from': 'name' if parsed else 'mtime',
            'verified': os.path.isfile(entry.path + SUFFIX_SHA256),
            'size': st.st_size,
        })
    archives.sort(key=lambda item: (item['timestamp'], item['name']), reverse=True)
    partials.sort(key=lambda item: item['name'])
    return archives, partials


def select_archives(archives, keep_last=7, keep_daily=7, keep_weekly=4):
    """Why each archive is kept, like restic's forget --keep-last/--keep-daily/--keep-weekly.

    archives: newest first, each with a timestamp. Returns {path: [reasons]} of the archives to
    keep: the newest keep_last, and the newest archive of each of the last keep_daily days and
    keep_weekly ISO weeks that have archives (UTC). Pure: no guard for verified archives here.
    """
    reasons = {}
    rules = [
        ['daily', keep_daily, lambda when: when.strftime('%Y-%m-%d'), None],
        ['weekly', keep_weekly, lambda when: '%04d-W%02d' % when.isocalendar()[:2], None],
    ]
    for position, archive in enumerate(archives):
        kept = []
        if position < keep_last:
            kept.append('last %d' % (position + 1))
        when = _utc(archive['timestamp'])
        for rule in rules:
            label, left, bucket, last = rule
            if left <= 0:
                continue
            value = bucket(when)
            if value != last:
                kept.append('%s %s' % (label, value))
                rule[1] -= 1
                rule[3] = value
        if kept:
            reasons[archive['path']] = kept
    return reasons


def siblings(path):
    """The files that belong to an archive (or to a .partial of one): its .sha256 and manifest."""
    if path.endswith(_DUMPS_PARTIAL):
        return []
    base = path
    if path.endswith(SUFFIX_PARTIAL):
        base = path[:-len(SUFFIX_PARTIAL)]
        if os.path.lexists(base):  # the run completed: the side files are the archive's
            return []
    return [candidate for candidate in (base + SUFFIX_SHA256, base + SUFFIX_MANIFEST) if os.path.lexists(candidate)]


def plan_retention(folder, pattern='*.tar.*', keep_last=7, keep_daily=7, keep_weekly=4, stale_partial_hours=24,
                   verify_newest=False, now=None, verifier=None):
    """Decide, without deleting anything, what retention would delete and keep.

    Returns a dict: delete (paths of archives and stale partials to delete, siblings not
    included), kept (list of {path, reasons}), newest_verified (path or None), blocked (why
    nothing may be deleted, or None) and warnings. verifier(path) -> (ok, reason) re-verifies the
    newest archive when verify_newest is true.
    """
    for option, value in (('keep_last', keep_last), ('keep_daily', keep_daily), ('keep_weekly', keep_weekly),
                          ('stale_partial_hours', stale_partial_hours)):
        if value < 0:
            raise RetentionError('%s cannot be negative' % option)
    now = time.time() if now is None else now
    archives, partials = scan_folder(folder, pattern)
    warnings = []
    blocked = held = None
    newest_verified = next((archive for archive in archives if archive['verified']), None)
    if archives and not archives[0]['verified']:
        blocked = ('the newest archive %s is not verified (no %s beside it): the last backup may have failed, '
                   'so nothing is deleted' % (archives[0]['path'], SUFFIX_SHA256))
        held = 'nothing is deleted: the newest archive is not verified'
    elif archives and verify_newest and verifier is not None:
        ok, reason = verifier(archives[0]['path'])
        if not ok:
            blocked = 'the newest archive %s failed verification (%s), so nothing is deleted' % (archives[0]['path'], reason)
            held = 'nothing is deleted: the newest archive failed verification'
            newest_verified = next((archive for archive in archives[1:] if archive['verified']), None)
    if blocked:
        warnings.append(blocked)

    reasons = select_archives(archives, keep_last, keep_daily, keep_weekly)
    if newest_verified is not None:
        reasons.setdefault(newest_verified['path'], []).insert(0, 'newest verified')
    kept = []
    delete = []
    for archive in archives:
        if archive['path'] in reasons:
            kept.append({'path': archive['path'], 'reasons': reasons[archive['path']]})
        elif blocked:
            kept.append({'path': archive['path'], 'reasons': [held]})
        else:
            delete.append(archive)
    for partial in partials:
        age_hours = (now - partial['mtime']) / 3600.0
        if blocked or age_hours <= stale_partial_hours:
            why = held if blocked else \
                'partial %.1f hours old, a backup may be writing it (stale after %d hours)' % (age_hours, stale_partial_hours)
            kept.append({'path': partial['path'], 'reasons': [why]})
        else:
            delete.append(partial)
    return {
        'delete': delete,
        'kept': kept,
        'archives': archives,
        'newest_verified': newest_verified['path'] if newest_verified else None,
        'blocked': blocked,
        'warnings': warnings,
    }


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def apply_retention(plan, check_mode=False):
    """Delete what the plan says (each archive's .sha256 first, then its manifest, then itself).

    Returns (deleted paths, freed bytes); in check mode the same, with nothing deleted.
    """
    deleted = []
    freed = 0
    for item in plan['delete']:
        for path in siblings(item['path']) + [item['path']]:
            if not os.path.lexists(path):
                continue  # deleted by someone else since the plan was made
            size = _size(path)
            if not check_mode:
                try:
                    _remove(path)
                except OSError as exc:
                    if _gone(exc):
                        continue
                    raise RetentionError('cannot delete %s: %s' % (path, exc.strerror or exc))
            deleted.append(path)
            freed += size
    return deleted, freed


def reader_verifier(path):
    """Re-verify an archive with the reader against the sha256 in its .sha256 file: (ok, reason)."""
    try:
        expected = read_sha256_file(path + SUFFIX_SHA256)
    except (OSError, ValueError) as exc:
        return False, 'cannot read its %s file: %s' % (SUFFIX_SHA256, exc)
    try:
        report = verify_archive(path, expected_sha256=expected)
    except MissingLibraryError as exc:
        return False, str(exc)
    failed = ['%s: %s' % (check.get('name'), check.get('reason')) for check in report.get('checks') or [] if not check.get('ok')]
    return not failed, '; '.join(failed)


def run_retention(folder, pattern='*.tar.*', keep_last=7, keep_daily=7, keep_weekly=4, stale_partial_hours=24,
                  verify_newest=False, check_mode=False, now=None, verifier=reader_verifier):
    """Plan and apply retention; returns the result the backup_retention module reports."""
    plan = plan_retention(folder, pattern, keep_last, keep_daily, keep_weekly, stale_partial_hours, verify_newest, now, verifier)
    deleted, freed = apply_retention(plan, check_mode)
    if plan['blocked']:
        msg = plan['blocked']
    elif not plan['archives']:
        msg = 'no archives matching %s in %s' % (pattern, folder)
    else:
        kept_archives = sum(1 for item in plan['kept'] if not item['path'].endswith(SUFFIX_PARTIAL))
        msg = '%s %d file(s), %d bytes; kept %d archive(s)' % ('would delete' if check_mode else 'deleted', len(deleted), freed, kept_archives)
    before = sorted(os.path.basename(item['path']) for item in plan['archives'])
    gone = set(os.path.basename(item['path']) for item in plan['delete'])
    return {
        'changed': bool(deleted),
        'deleted': deleted,
        'kept': plan['kept'],
        'freed_bytes': freed,
        'newest_verified': plan['newest_verified'],
        'msg': msg,
        'warnings': plan['warnings'],
        'diff': {
            'before': ''.join(name + '\n' for name in before),
            'after': ''.join(name + '\n' for name in before if name not in gone),
            'before_header': folder,
            'after_header': folder,
        },
    }
