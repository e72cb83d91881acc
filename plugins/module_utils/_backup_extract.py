# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Restoring sources from a clawd.ops backup archive (docs/backup-format.md) into folders, safely.

Extraction reads the archive twice (_backup_pipeline): once to refuse unsafe members, check the
free space and cap the expansion before anything is written, once to write, each member again
checked for safety and passed through tarfile's data filter (or this module's copy of its rules).
The writing pass must end with the whole-file sha256 the first pass saw; a target whose contents
are cleared is emptied by moving them aside into a holding folder inside it, put back when
anything fails.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import random
import shutil
import stat
import sys
import tarfile

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import normalize_member_name, normalize_sha256
from ansible_collections.clawd.ops.plugins.module_utils._backup_pipeline import HookAbort, _ArchiveReading, _ArchiveStream, _listing, _mb
from ansible_collections.clawd.ops.plugins.module_utils._backup_tar import BackupReadError, UnsafeMemberError, _LimitError, _member_type, printable


HAS_TAR_FILTERS = hasattr(tarfile, 'data_filter')
RATIO_FLOOR = 64 << 20          # the expansion ratio is judged past this much tar data
DEFAULT_MAX_RATIO = 250
DEFAULT_SPACE_MARGIN = 64 << 20
HOLDING_PREFIX = '.clawd-restore-held-'


class _WriteError(HookAbort):
    """Writing a member failed, or the archive changed since it was checked: the targets were touched."""


class BackupExtractError(Exception):
    """Extraction refused or failed; the message says what and whether anything was written.

    changed: whether the targets were touched; states: what each target holds now (after a
    failure that touched them)."""

    def __init__(self, message, changed=False, states=None):
        super(BackupExtractError, self).__init__(printable(message))
        self.changed = changed
        self.states = states or {}


def _copy_member(member, **changes):
    new = copy.copy(member)
    for key, value in changes.items():
        setattr(new, key, value)
    return new


def _inside(path, folder):
    return os.path.commonpath([path, folder]) == folder


def fallback_data_filter(member, dest_path):
    """tarfile.data_filter's documented rules, for Pythons that lack it (Debian bookworm's 3.11.2).

    Refuses absolute names, names or links that land outside dest_path (after following the
    symlinks already on disk), absolute links, devices and fifos; strips setuid, setgid, sticky
    and group/other write bits; makes files owner-readable and -writable, and not executable
    unless the owner may execute; drops directory modes and ownership.
    """
    changes = {}
    name = member.name
    dest_path = os.path.realpath(dest_path)
    if name.startswith(('/', os.sep)):
        name = changes['name'] = member.name.lstrip('/' + os.sep)
    if os.path.isabs(name):
        raise UnsafeMemberError('member %s: absolute path' % member.name)
    target_path = os.path.realpath(os.path.join(dest_path, name))
    if not _inside(target_path, dest_path):
        raise UnsafeMemberError('member %s: would be written outside %s (to %s)' % (member.name, dest_path, target_path))
    mode = member.mode
    if mode is not None:
        mode &= 0o755
        if member.isreg() or member.islnk():
            if not mode & 0o100:
                mode &= ~0o111
            mode |= 0o600
        elif member.isdir() or member.issym():
            mode = None
        else:
            raise UnsafeMemberError('member %s: special file (device or fifo)' % member.name)
        if mode != member.mode:
            changes['mode'] = mode
    changes.update(uid=None, gid=None, uname=None, gname=None)
    if member.islnk() or member.issym():
        if os.path.isabs(member.linkname):
            raise UnsafeMemberError('member %s: link to the absolute path %s' % (member.name, member.linkname))
        if member.issym():
            link_path = os.path.join(dest_path, os.path.dirname(name), member.linkname)
        else:
            link_path = os.path.join(dest_path, member.linkname)
        link_path = os.path.realpath(link_path)
        if not _inside(link_path, dest_path):
            raise UnsafeMemberError('member %s: link to %s leaves %s' % (member.name, member.linkname, dest_path))
    return _copy_member(member, **changes)


def _stdlib_data_filter(member, dest_path):
    try:
        return tarfile.data_filter(member, dest_path)  # pylint: disable=no-member
    except tarfile.FilterError as exc:  # pylint: disable=no-member
        raise UnsafeMemberError('member %s: %s' % (member.name, exc))


def _restore_filter(data_filter):
    """The data filter, then what a restore keeps beyond it: directory modes (without setuid,
    setgid, sticky and group/other write, as tarfile's tar filter does) and, as root, the owner."""
    as_root = hasattr(os, 'geteuid') and os.geteuid() == 0

    def restore(member, dest_path):
        filtered = data_filter(member, dest_path)
        changes = {}
        if member.isdir():
            changes['mode'] = member.mode & 0o755
        if as_root:
            changes.update(uid=member.uid, gid=member.gid, uname='', gname='')
        return _copy_member(filtered, **changes) if changes else filtered

    return restore


def _destination(name, targets):
    """(target key, path inside the target) for a member, or (None, None) when it is not restored."""
    parts = normalize_member_name(name).split('/', 2)
    if parts[0] == 'volumes' and len(parts) > 1 and parts[1] in targets:
        return parts[1], parts[2] if len(parts) > 2 else ''
    if parts[0] == 'dumps' and len(parts) > 1 and 'dumps' in targets:
        return 'dumps', '/'.join(parts[1:])
    return None, None


class _ExpansionGuard(object):
    """Stops a pass once the tar stream grows past max_total_size bytes, or past max_ratio times
    the compressed bytes read (judged beyond RATIO_FLOOR): a decompression bomb."""

    def __init__(self, stream, max_total_size=0, max_ratio=0):
        self._stream = stream
        self._max_total = max_total_size or 0
        self._max_ratio = max_ratio or 0

    def __call__(self, total):
        if self._max_total and total > self._max_total:
            raise _LimitError('the archive holds more than %d bytes of tar data (max_total_size): refused at %s'
                              % (self._max_total, _mb(total)))
        if self._max_ratio and total > RATIO_FLOOR and total > self._max_ratio * max(self._stream.hash.size, 1):
            raise _LimitError('the archive expands to more than %d times its size (max_ratio) after %s of tar data: '
                              'refused as a decompression bomb' % (self._max_ratio, _mb(total)))


def _plan_extraction(path, targets, threads, precheck=None, max_total_size=0, max_ratio=0):
    """Read the whole archive once, refuse unsafe members, count what each target gets.

    precheck(member, folder), a data filter, also runs each member against its target as it is
    on disk now (for restores that do not clear the targets first).
    Returns (plan, skipped members, what was read: sha256 and tar_bytes).
    """
    plan = dict((key, {'path': folder, 'files': 0, 'dirs': 0, 'symlinks': 0, 'bytes': 0, 'removed': 0})
                for key, folder in targets.items())
    present = set()
    refused = []
    skipped = [0]

    def count(info, problem):
        parts = normalize_member_name(info.name).split('/')
        if parts[0] == 'volumes' and len(parts) > 1:
            present.add(parts[1])
        elif parts[0] == 'dumps':
            present.add('dumps')
        key, relative = _destination(info.name, targets)
        if key is None:
            skipped[0] += 1
            return None
        if relative:
            kind = _member_type(info)
            if kind == 'file':
                plan[key]['files'] += 1
                plan[key]['bytes'] += info.size
            elif kind in ('dir', 'symlink'):
                plan[key][kind + 's'] += 1
            if precheck is not None and problem is None:
                try:
                    precheck(_copy_member(info, name=relative), os.path.realpath(targets[key]))
                except UnsafeMemberError as exc:
                    refused.append(printable(str(exc)))
        return None

    try:
        stream = _ArchiveStream(path, threads=threads)
    except (OSError, IOError) as exc:
        raise BackupExtractError('cannot open the archive: %s; nothing was written' % exc)
    with stream:
        stream.guard = _ExpansionGuard(stream, max_total_size, max_ratio)
        reading = _ArchiveReading(stream, member_hook=count, hash_members=False)
        reading.run()
    problem = reading.read_problem or reading.whole_file_problem
    if reading.limited:
        raise BackupExtractError('%s; nothing was written' % problem)
    if problem:
        raise BackupExtractError('cannot read the archive: %s; nothing was written' % problem)
    unsafe = [item['problem'] for item in reading.unsafe] + refused
    if unsafe:
        raise BackupExtractError('the archive has unsafe members: %s; nothing was written' % _listing(unsafe))
    absent = sorted(key for key in targets if key not in present)
    if absent:
        raise BackupExtractError('the archive has no %s to restore (it has: %s); nothing was written'
                                 % (', '.join(absent), ', '.join(sorted(present)) or 'nothing'))
    return plan, skipped[0], {'sha256': stream.hash.sha256.hexdigest(), 'tar_bytes': stream.feed.tell()}


def _target_entries(key, folder):
    """The names in a target folder ([] when it does not exist yet), or a refusal naming it."""
    try:
        if not os.path.lexists(folder):
            return []
        return sorted(os.listdir(folder))
    except (OSError, IOError) as exc:
        raise BackupExtractError('cannot list target %s (%s): %s; nothing was written' % (key, folder, exc))


def _nearest_folder(path):
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _check_space(plan, targets, margin):
    """Refuse, before anything is touched, a restore that would not fit: the data, a block for
    each entry and the margin must fit in the space free to users on each target's file system
    (the current contents are kept aside until the restore is complete, so they free nothing)."""
    groups = {}
    for key in sorted(targets):
        probe = _nearest_folder(targets[key])
        try:
            device = os.stat(probe).st_dev
            space = os.statvfs(probe)
        except (OSError, IOError) as exc:
            raise BackupExtractError('cannot read the free space of target %s (%s): %s; nothing was written' % (key, targets[key], exc))
        group = groups.setdefault(device, {'keys': [], 'space': space, 'bytes': 0, 'entries': 0})
        block = space.f_frsize or space.f_bsize or 4096
        entries = plan[key]['files'] + plan[key]['dirs'] + plan[key]['symlinks']
        group['keys'].append(key)
        group['bytes'] += plan[key]['bytes'] + entries * block
        group['entries'] += entries
    for group in groups.values():
        space = group['space']
        block = space.f_frsize or space.f_bsize or 4096
        free = space.f_bavail * block
        needed = group['bytes'] + margin
        names = ', '.join('%s (%s)' % (key, targets[key]) for key in group['keys'])
        if needed > free:
            raise BackupExtractError('not enough free space for target %s: the restore needs %s (the data, the blocks of %d entries '
                                     'and a margin of %s), %s are free (%d bytes, %d needed); nothing was written'
                                     % (names, _mb(needed), group['entries'], _mb(margin), _mb(free), free, needed))
        if space.f_files and group['entries'] > space.f_favail:
            raise BackupExtractError('not enough free inodes for target %s: the restore makes %d entries, %d are free; nothing was written'
                                     % (names, group['entries'], space.f_favail))


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _make_room(target_path, member):
    """Remove what is in the way of a member: anything but a folder where a folder goes."""
    if not os.path.lexists(target_path):
        return
    if os.path.isdir(target_path) and not os.path.islink(target_path):
        if not member.isdir():
            shutil.rmtree(target_path)
    else:
        os.unlink(target_path)


def _os_error(exc):
    if getattr(exc, 'strerror', None):
        return '[Errno %s] %s' % (exc.errno, exc.strerror)
    return str(exc)


class _Target(object):
    """One target folder during a restore: what was done to it, and how to undo that."""

    def __init__(self, key, folder, entries):
        self.key = key
        self.folder = folder
        self.entries = entries
        self.created = False
        self.held = None        # the holding folder the previous contents were moved into
        self.moved = 0
        self.written = 0
        self.before = None      # the folder's own stat before the restore

    def prepare(self, clear):
        """Create the folder, or move its contents aside when clearing."""
        if not os.path.isdir(self.folder):
            os.makedirs(self.folder)
            self.created = True
            return
        self.before = os.stat(self.folder)
        if clear and self.entries:
            held = os.path.join(self.folder, HOLDING_PREFIX + '%016x' % random.getrandbits(64))
            os.mkdir(held, 0o700)
            self.held = held
            for name in self.entries:
                os.rename(os.path.join(self.folder, name), os.path.join(held, name))
                self.moved += 1

    def held_name(self):
        return os.path.basename(self.held) if self.held else None

    def drop_held(self):
        if self.held is not None:
            shutil.rmtree(self.held)
            self.held = None

    def undo(self, clear):
        """Put the folder back as it was; returns its state in words."""
        try:
            if self.created:
                shutil.rmtree(self.folder)
                return 'removed (it did not exist before)'
            if not clear:
                if not self.written:
                    return 'not changed'
                return 'partly restored: its contents were kept (clear=false) and %d members were written over them' % self.written
            # Keep the holding folder and what clearing never got to move aside (a rename that failed
            # half-way): those are the previous contents. Only what this restore wrote is removed.
            keep = set(self.entries[self.moved:])
            keep.add(self.held_name())
            for name in os.listdir(self.folder):
                if name not in keep:
                    _remove(os.path.join(self.folder, name))
            if self.held is not None:
                for name in os.listdir(self.held):
                    os.rename(os.path.join(self.held, name), os.path.join(self.folder, name))
                os.rmdir(self.held)
                self.held = None
            if self.before is not None:
                os.chmod(self.folder, stat.S_IMODE(self.before.st_mode))
                if hasattr(os, 'geteuid') and os.geteuid() == 0:
                    os.chown(self.folder, self.before.st_uid, self.before.st_gid)
                os.utime(self.folder, (self.before.st_atime, self.before.st_mtime))
            return 'put back as it was'
        except (OSError, IOError) as exc:
            if self.held is not None:
                return 'partly restored; its previous contents are in %s (putting them back failed: %s)' % (self.held, _os_error(exc))
            return 'partly restored (removing what was written failed: %s)' % _os_error(exc)


class _Writer(object):
    """The writing pass's member hook: checks each member again, then writes it."""

    def __init__(self, targets, restore, stream):
        self._targets = targets     # key -> _Target
        self._real = dict((key, os.path.realpath(target.folder)) for key, target in targets.items())
        self._restore = restore
        self._stream = stream
        self._as_root = hasattr(os, 'geteuid') and os.geteuid() == 0
        self.folders = []

    def member(self, info, problem):
        if problem:
            raise _WriteError('the archive changed after it was checked: %s' % problem)
        key, relative = _destination(info.name, self._targets)
        if key is None:
            return None
        folder = self._real[key]
        try:
            if not relative:
                self.folders.append((self._restore(_copy_member(info, name='.'), folder), folder))
                return None
            if relative.split('/')[0] == self._targets[key].held_name():
                raise UnsafeMemberError('member %s: its name is the holding folder of the restore' % info.name)
            member = self._restore(_copy_member(info, name=relative), folder)
        except UnsafeMemberError as exc:
            raise _WriteError('the archive has an unsafe member: %s' % exc)
        target_path = os.path.join(folder, member.name)
        taken = None
        try:
            parent = os.path.dirname(target_path)
            if not os.path.isdir(parent):
                os.makedirs(parent)
            _make_room(target_path, member)
            if member.isdir():
                if not os.path.isdir(target_path):
                    os.mkdir(target_path, 0o700)
                self.folders.append((member, target_path))
            elif member.issym():
                os.symlink(member.linkname, target_path)
                self._attrs(member, target_path)
            else:
                handle = os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
                with os.fdopen(handle, 'wb') as out:
                    taken = self._stream.feed.consume(member.size, out.write)
                self._attrs(member, target_path)
        except (OSError, IOError) as exc:
            raise _WriteError('cannot write %s: %s' % (target_path, _os_error(exc)))
        self._targets[key].written += 1
        return taken

    def _attrs(self, member, target_path):
        if self._as_root and member.uid is not None and member.gid is not None:
            os.lchown(target_path, member.uid, member.gid)
        if not member.issym() and member.mode is not None:
            os.chmod(target_path, member.mode)
        if not member.issym():
            os.utime(target_path, (member.mtime, member.mtime))
        elif os.utime in getattr(os, 'supports_follow_symlinks', ()):
            os.utime(target_path, (member.mtime, member.mtime), follow_symlinks=False)

    def finish(self):
        """Folder modes, owners and times, deepest first (writing into them changed their times)."""
        for member, target_path in sorted(self.folders, key=lambda item: item[1], reverse=True):
            try:
                self._attrs(member, target_path)
            except (OSError, IOError) as exc:
                raise _WriteError('cannot set the mode, owner or time of %s: %s' % (target_path, _os_error(exc)))


def extract_archive(path, targets, clear=True, check_mode=False, data_filter=None, threads=None, expected_sha256=None,
                    max_total_size=0, max_ratio=DEFAULT_MAX_RATIO, space_margin=DEFAULT_SPACE_MARGIN):
    """Restore sources of an archive: volumes/<name>/... into targets[name] (a folder), and
    dumps/... into targets['dumps'] when given. Other members are skipped.

    The whole archive is read first, and before anything is written the restore is refused for
    any unsafe member (member_safety_problem, or a non-folder at a source's root), a sha256 other
    than expected_sha256, tar data beyond max_total_size bytes or max_ratio times the archive's
    size (0: no cap), or too little free space for the data plus space_margin bytes.
    The archive is then read again and written: each member checked again and passed through
    tarfile's data filter (tarfile.data_filter where Python has it, else fallback_data_filter;
    data_filter 'stdlib' or 'fallback' forces one), keeping directory modes and, as root, owners.
    That pass must end with the sha256 the first one saw.
    clear empties each target first (not the folder itself): its contents are moved into a
    holding folder inside it, removed once the restore is complete and put back if it fails.
    In check mode nothing is touched. Returns changed, targets (per target: path, files, dirs,
    symlinks, bytes, removed), skipped_members and filter. Raises BackupExtractError (with
    changed and states, what each target holds, when the targets were touched), MissingLibraryError.
    """
    if data_filter is None:
        data_filter = 'stdlib' if HAS_TAR_FILTERS else 'fallback'
    if data_filter == 'stdlib' and not HAS_TAR_FILTERS:
        raise BackupExtractError('this Python (%s) has no tarfile.data_filter' % '.'.join(str(part) for part in sys.version_info[:3]))
    if data_filter not in ('stdlib', 'fallback'):
        raise ValueError('data_filter must be stdlib or fallback')
    for name, value in (('max_total_size', max_total_size), ('max_ratio', max_ratio), ('space_margin', space_margin)):
        if value is not None and value < 0:
            raise BackupExtractError('%s must be 0 or more, not %d' % (name, value))
    expected = None
    if expected_sha256:
        try:
            expected = normalize_sha256(expected_sha256)
        except ValueError as exc:
            raise BackupExtractError('invalid expected sha256: %s' % exc)
    if not os.path.isfile(path):
        raise BackupExtractError('the archive %s does not exist or is not a file' % path)
    for key, folder in targets.items():
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise BackupExtractError('target %s (%s) is not a folder; nothing was written' % (key, folder))
    entries = dict((key, _target_entries(key, folder)) for key, folder in targets.items())
    data_filter_function = _stdlib_data_filter if data_filter == 'stdlib' else fallback_data_filter
    restore = _restore_filter(data_filter_function)
    # Cleared targets hold nothing that could redirect a member; kept ones are checked as they are.
    plan, skipped, checked = _plan_extraction(path, targets, threads, precheck=None if clear else restore,
                                              max_total_size=max_total_size, max_ratio=max_ratio)
    if expected is not None and checked['sha256'] != expected:
        raise BackupExtractError('the archive has sha256 %s, not the expected %s; nothing was written' % (checked['sha256'], expected))
    _check_space(plan, targets, space_margin or 0)
    changed = False
    for key in targets:
        if clear:
            plan[key]['removed'] = len(entries[key])
        changed = changed or bool(entries[key] and clear) or any(plan[key][kind] for kind in ('files', 'dirs', 'symlinks'))
    result = {'changed': changed, 'targets': plan, 'skipped_members': skipped, 'filter': data_filter}
    if check_mode:
        return result

    state = dict((key, _Target(key, folder, entries[key])) for key, folder in targets.items())
    try:
        for key in sorted(state):
            try:
                state[key].prepare(clear)
            except (OSError, IOError) as exc:
                raise _WriteError('cannot %s target %s (%s): %s' % ('clear' if clear and not state[key].created else 'create', key,
                                                                    targets[key], _os_error(exc)))
        _write_pass(path, state, restore, threads, checked, max_ratio)
    except Exception as exc:  # pylint: disable=broad-except  # whatever it was, the targets are put back
        states = dict((key, state[key].undo(clear)) for key in sorted(state))
        reason = str(exc) if isinstance(exc, (_WriteError, BackupReadError)) else '%s: %s' % (type(exc).__name__, exc)
        raise BackupExtractError('extraction failed: %s; %s' % (reason, '; '.join('target %s (%s) %s' % (key, targets[key], states[key])
                                                                                  for key in sorted(states))),
                                 changed=True, states=states)
    left = []
    for key in sorted(state):
        try:
            state[key].drop_held()
        except (OSError, IOError) as exc:
            left.append('target %s (%s): the previous contents are still in %s (%s)' % (key, targets[key], state[key].held, _os_error(exc)))
    if left:
        raise BackupExtractError('restored, but removing the previous contents failed: %s' % '; '.join(left), changed=True,
                                 states=dict((key, 'restored') for key in state))
    result['changed'] = True
    return result


def _write_pass(path, state, restore, threads, checked, max_ratio):
    """Read the archive again and write it; it must be the archive the plan read."""
    try:
        stream = _ArchiveStream(path, threads=threads)
    except (OSError, IOError) as exc:
        raise _WriteError('cannot open the archive again: %s' % exc)
    with stream:
        stream.guard = _ExpansionGuard(stream, checked['tar_bytes'], max_ratio)
        writer = _Writer(state, restore, stream)
        reading = _ArchiveReading(stream, member_hook=writer.member, hash_members=False)
        reading.run()
    problem = reading.read_problem or reading.whole_file_problem
    if problem:
        raise _WriteError('the archive changed after it was checked: %s' % problem if reading.limited else
                          'cannot read the archive again: %s' % problem)
    sha256 = stream.hash.sha256.hexdigest()
    if sha256 != checked['sha256']:
        raise _WriteError('the archive changed after it was checked: the file read has sha256 %s, the check read %s'
                          % (sha256, checked['sha256']))
    writer.finish()
