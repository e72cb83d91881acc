# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Free space on a full filesystem in a safe order, measuring after each step and stopping at the target.

The steps, in their default order: ``build_cache`` (the unused Docker build cache), ``dangling_images``,
``stopped_containers`` (only when asked, and only those of a name prefix or labels), ``old_logs`` (rotated logs first,
then logs not written for days; deleted, never truncated, never one a process holds open) and ``old_archives``
(backup archives beyond the newest N, never the newest nor the newest verified one). Named volumes are never
touched: the Docker steps are the plans of module_utils/_docker_cleanup with every volume option off, and a
container is removed without its volumes.

``Reclaimer`` runs the steps; the Docker engine and the clock come in from outside (tests pass fakes). The
file steps stop within a step, after the file that reached the target; the Docker steps act as a whole.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re
import stat

from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import find_newest
from ansible_collections.clawd.ops.plugins.module_utils._backup_retention import (
    RetentionError,
    apply_retention,
    plan_retention,
    siblings,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_tar import BackupReadError
from ansible_collections.clawd.ops.plugins.module_utils._docker_cleanup import (
    CleanupError,
    execute,
    make_plan,
    read_engine,
)

STEPS = ('build_cache', 'dangling_images', 'stopped_containers', 'old_logs', 'old_archives')
DEFAULT_STEPS = ('build_cache', 'dangling_images', 'old_logs', 'old_archives')
DOCKER_STEPS = ('build_cache', 'dangling_images', 'stopped_containers')
ITEMS_LISTED = 50          # names listed per step; items_total counts them all
MAX_LOG_ENTRIES = 100000   # entries looked at under the log paths, whatever they hold
DAY = 86400.0
# logrotate's and the usual rotated names: app.log.1, app.log.2.gz, app.log-20261201, app.log.old, app.1.log, *.gz
ROTATED = re.compile(r'(?:\.\d+(?:\.(?:gz|xz|bz2|zst|lz4))?|\.(?:gz|xz|bz2|zst|lz4|zip|old)|[-_.]\d{8}(?:[-_T]?\d{2,6})?'
                     r'(?:\.(?:log|txt|gz|xz|bz2|zst))?|\.\d+\.log)$')


class ReclaimError(Exception):
    """Options that cannot be used, or a filesystem that cannot be measured; the message says which."""


def free_space(path):
    """{'bytes', 'percent', 'total'} of the filesystem holding path (space available to unprivileged users, like df)."""
    try:
        info = os.statvfs(path)
    except OSError as exc:
        raise ReclaimError('cannot measure the free space of %s: %s' % (path, exc.strerror or exc))
    total = info.f_blocks * info.f_frsize
    free = info.f_bavail * info.f_frsize
    return {'bytes': free, 'percent': round(100.0 * free / total, 2) if total else 0.0, 'total': total}


def is_rotated(name):
    """Whether a log file's name is a rotated one (app.log.1, app.log.2.gz, app.log-20261201, ...)."""
    return bool(ROTATED.search(name))


def open_files(proc='/proc'):
    """(st_dev, st_ino) of every file a process we can see holds open."""
    held = set()
    try:
        pids = [entry for entry in os.listdir(proc) if entry.isdigit()]
    except OSError:
        return held
    for pid in pids:
        folder = os.path.join(proc, pid, 'fd')
        try:
            fds = os.listdir(folder)
        except OSError:
            continue
        for fd in fds:
            try:
                info = os.stat(os.path.join(folder, fd))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                held.add((info.st_dev, info.st_ino))
    return held


def plan_logs(log_paths, max_age_days, now, device, held=frozenset()):
    """(files, notes): the log files to delete, rotated ones first, each oldest first; notes say what was passed over.

    A file qualifies when it is a regular file (not a link) on the filesystem `device`, not written for max_age_days,
    and no process holds it open (deleting a file that is open frees nothing until it is closed).
    """
    rotated, live = [], []
    notes = {'open': 0, 'other_filesystem': 0, 'too_many_entries': False}
    seen = 0
    limit = now - max_age_days * DAY
    for top in log_paths:
        if os.path.isfile(top) and not os.path.islink(top):
            walk = [(os.path.dirname(top), [], [os.path.basename(top)])]
        else:
            walk = os.walk(top, followlinks=False)
        for root, dummy, names in walk:
            for name in names:
                seen += 1
                if seen > MAX_LOG_ENTRIES:
                    notes['too_many_entries'] = True
                    break
                path = os.path.join(root, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if not stat.S_ISREG(info.st_mode) or info.st_mtime > limit:
                    continue
                if info.st_dev != device:
                    notes['other_filesystem'] += 1
                    continue
                if (info.st_dev, info.st_ino) in held:
                    notes['open'] += 1
                    continue
                item = {'name': path, 'bytes': info.st_blocks * 512, 'mtime': info.st_mtime}
                (rotated if is_rotated(name) else live).append(item)
            if notes['too_many_entries']:
                break
    rotated.sort(key=lambda item: (item['mtime'], item['name']))
    live.sort(key=lambda item: (item['mtime'], item['name']))
    return rotated + live, notes


def _allocated(path):
    try:
        return os.lstat(path).st_blocks * 512
    except OSError:
        return 0


def plan_archives(backup_dir, pattern, keep_archives, now):
    """(items, skipped_reason): the archives (and stale partials) to delete, partials then oldest first.

    Retention as backup_retention plans it (keep the newest keep_archives; nothing at all when the newest is not
    verified), and again never the newest archive nor the newest verified one.
    """
    if keep_archives < 1:
        raise ReclaimError('keep_archives must be 1 or more: the newest archive is never deleted')
    try:
        plan = plan_retention(backup_dir, pattern, keep_last=keep_archives, keep_daily=0, keep_weekly=0, now=now)
        newest = find_newest(backup_dir, pattern)
    except (RetentionError, BackupReadError) as exc:
        return [], str(exc)
    if plan['blocked']:
        return [], plan['blocked']
    never = set(path for path in (newest, plan['newest_verified']) if path)
    items = []
    for entry in reversed(plan['delete']):   # the plan lists newest first; partials come last in it
        if entry['path'] in never:
            continue
        size = sum(_allocated(path) for path in siblings(entry['path']) + [entry['path']])
        items.append({'name': entry['path'], 'bytes': size, 'partial': 'verified' not in entry})
    items.sort(key=lambda item: not item['partial'])
    return items, None


class Reclaimer(object):
    """Runs the steps on the filesystem holding path until its free space reaches target_percent.

    engine: a Docker SDK client (client.api used) or None when the engine cannot be reached (engine_problem says why).
    measure(path) -> free_space(path). now: epoch seconds.
    """

    def __init__(self, path, target_percent, options, now, engine=None, engine_problem=None, measure=free_space,
                 held=None, check_mode=False):
        if not 0 < target_percent <= 100:
            raise ReclaimError('target_free_percent must be more than 0 and at most 100, not %s' % target_percent)
        self.path = path
        self.target = float(target_percent)
        self.options = options
        self.now = now
        self.engine = engine
        self.engine_problem = engine_problem
        self.measure = measure
        self.held = held
        self.check_mode = check_mode
        self.errors = []
        try:
            self.device = os.stat(path).st_dev
        except OSError as exc:
            raise ReclaimError('cannot read %s: %s' % (path, exc.strerror or exc))

    # ------------------------------------------------------------ helpers

    def _reached(self, free):
        return free['percent'] >= self.target

    def _predict(self, free, freed):
        total = free['total'] or 1
        available = min(free['bytes'] + freed, total)
        return {'bytes': available, 'percent': round(100.0 * available / total, 2), 'total': free['total']}

    @staticmethod
    def _record(step, items=(), estimated=0, freed=0, skipped=None):
        names = [item['name'] for item in items]
        return {'step': step, 'freed_bytes': max(int(freed), 0), 'estimated_bytes': int(estimated), 'items': names[:ITEMS_LISTED],
                'items_total': len(names), 'skipped_reason': skipped}

    def _docker_problem(self):
        if self.engine is None:
            return 'the Docker engine cannot be reached: %s' % (self.engine_problem or 'no client')
        root = self.options.get('docker_root')
        if root and os.path.isdir(root):
            try:
                if os.stat(root).st_dev != self.device:
                    return 'Docker keeps its data in %s, on another filesystem than %s: pruning frees nothing there' % (root, self.path)
            except OSError:
                pass
        return None

    # ------------------------------------------------------------ the steps' plans

    def _docker_plan(self, step):
        options = {'containers': step == 'stopped_containers', 'dangling_images': step == 'dangling_images',
                   'app_images': False, 'unused_images': False, 'anonymous_volumes': False,
                   'build_cache': step == 'build_cache', 'build_cache_min_age_hours': 0,
                   'container_min_age_hours': self.options.get('container_min_age_hours', 1),
                   'keep_marker': self.options.get('keep_marker'), 'app_image_patterns': [],
                   'scope': self.options.get('containers_scope') if step == 'stopped_containers' else []}
        plan = make_plan(read_engine(self.engine), self.now, options)
        prefix = self.options.get('containers_prefix')
        if prefix:
            plan['containers'] = [item for item in plan['containers'] if item['name'].startswith(prefix)]
        plan['volumes'] = []   # never: not even anonymous ones
        if step == 'build_cache':
            cache = plan['build_cache']
            items = [{'name': '%d build cache record(s)' % cache['entries'], 'bytes': cache['bytes']}] if cache['prune'] else []
        elif step == 'dangling_images':
            items = [{'name': item['id'], 'bytes': item['bytes']} for item in plan['images']]
        else:
            items = [{'name': item['name'], 'bytes': item['bytes']} for item in plan['containers']]
        return plan, items

    def _docker_step(self, step, free):
        problem = self._docker_problem()
        if problem:
            return self._record(step, skipped=problem), free
        if step == 'stopped_containers' and not (self.options.get('containers_prefix') or self.options.get('containers_scope')):
            return self._record(step, skipped='no containers_prefix or containers_scope given: stopped containers are '
                                              'only removed when they are named'), free
        try:
            plan, items = self._docker_plan(step)
        except CleanupError as exc:
            self.errors.append('%s: %s' % (step, exc))
            return self._record(step, skipped=str(exc)), free
        estimated = sum(item['bytes'] for item in items)
        if not items:
            return self._record(step, skipped='nothing to remove'), free
        if self.check_mode:
            return self._record(step, items, estimated, estimated), self._predict(free, estimated)
        removed, errors = execute(self.engine, plan)
        self.errors.extend('%s: %s' % (step, error) for error in errors)
        after = self.measure(self.path)
        return self._record(step, items, estimated, after['bytes'] - free['bytes']), after

    def _file_step(self, step, items, free, skipped):
        if skipped:
            return self._record(step, skipped=skipped), free
        if not items:
            return self._record(step, skipped='nothing to remove'), free
        done, estimated, current = [], 0, free
        for item in items:
            if self._reached(current):
                break
            done.append(item)
            estimated += item['bytes']
            if self.check_mode:
                current = self._predict(free, estimated)
                continue
            try:
                if step == 'old_archives':
                    apply_retention({'delete': [{'path': item['name']}]})
                else:
                    os.remove(item['name'])
            except (OSError, RetentionError) as exc:
                if not (isinstance(exc, OSError) and exc.errno == errno.ENOENT):
                    self.errors.append('%s: cannot delete %s: %s' % (step, item['name'], getattr(exc, 'strerror', None) or exc))
                    done.pop()
                    estimated -= item['bytes']
            current = self.measure(self.path)
        freed = estimated if self.check_mode else current['bytes'] - free['bytes']
        return self._record(step, done, estimated, freed), current

    def _old_logs(self, free):
        paths = self.options.get('log_paths') or []
        if not paths:
            return self._file_step('old_logs', [], free, 'no log_paths given')
        held = open_files() if self.held is None else self.held
        items, notes = plan_logs(paths, self.options.get('log_max_age_days', 7), self.now, self.device, held)
        record, after = self._file_step('old_logs', items, free, None)
        passed = []
        if notes['open']:
            passed.append('%d open by a process' % notes['open'])
        if notes['other_filesystem']:
            passed.append('%d on another filesystem' % notes['other_filesystem'])
        if notes['too_many_entries']:
            passed.append('only the first %d entries were looked at' % MAX_LOG_ENTRIES)
        if passed:
            record['passed_over'] = '; '.join(passed)
        return record, after

    def _old_archives(self, free):
        folder = self.options.get('backup_dir')
        if not folder:
            return self._file_step('old_archives', [], free, 'no backup_dir given')
        items, skipped = plan_archives(folder, self.options.get('backup_pattern') or '*.tar.*', self.options.get('keep_archives', 3), self.now)
        return self._file_step('old_archives', items, free, skipped)

    # ------------------------------------------------------------ the run

    def run(self, steps):
        for step in steps:
            if step not in STEPS:
                raise ReclaimError('steps: unknown step %r (steps: %s)' % (step, ', '.join(STEPS)))
        before = self.measure(self.path)
        free = before
        records = []
        for step in steps:
            if self._reached(free):
                why = 'the target would be reached before this step' if self.check_mode else 'the target was reached before this step'
                if free is before:
                    why = 'free space %s%% is already at or above the target %s%%' % (before['percent'], _number(self.target))
                records.append(self._record(step, skipped=why))
                continue
            if step in DOCKER_STEPS:
                record, free = self._docker_step(step, free)
            elif step == 'old_logs':
                record, free = self._old_logs(free)
            else:
                record, free = self._old_archives(free)
            records.append(record)
        after = free if self.check_mode else self.measure(self.path)
        return {
            'steps': records,
            'free_before': before,
            'free_after': after,
            'target_free_percent': self.target,
            'reached_target': self._reached(after),
            'changed': any(record['items_total'] for record in records if not record['skipped_reason']),
            'errors': list(self.errors),
        }


def _number(value):
    return int(value) if float(value).is_integer() else value


def describe(result, check_mode):
    """One line for msg: what each step that ran freed (or would free), and the free space before and after."""
    verb = 'would free' if check_mode else 'freed'
    parts = []
    for record in result['steps']:
        if record['skipped_reason']:
            continue
        shown = ', '.join(record['items'][:3]) + (', ...' if record['items_total'] > 3 else '')
        parts.append('%s %s %d bytes (%s)' % (record['step'], verb, record['freed_bytes'], shown))
    return '%s; free space %s%% -> %s%% (target %s%%, %s)' % (
        '; '.join(parts) or 'no step ran', result['free_before']['percent'], result['free_after']['percent'],
        _number(result['target_free_percent']), 'reached' if result['reached_target'] else 'not reached')
