# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retention on folders of synthetic archives: keep rules, guards, partial leftovers, check mode."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import datetime
import os

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name
from ansible_collections.clawd.ops.plugins.module_utils._backup_retention import (
    RetentionError,
    plan_retention,
    run_retention,
    select_archives,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_writer import create_archive

NOW = calendar.timegm((2026, 11, 23, 17, 50, 0))  # a Monday, ISO week 2026-W48


def at(month, day, hour=2):
    return calendar.timegm((2026, month, day, hour, 0, 0))


def make_archive(folder, when, verified=True, size=1000, name=None):
    """An archive file named for when (epoch seconds), with its manifest and, when verified, its .sha256."""
    path = os.path.join(str(folder), name or archive_name('claudebox', when, '1.0.0'))
    with open(path, 'wb') as handle:
        handle.write(b'x' * size)
    with open(path + '.manifest.json', 'w') as handle:
        handle.write('{}')
    if verified:
        with open(path + '.sha256', 'w') as handle:
            handle.write('%s  %s\n' % ('0' * 64, os.path.basename(path)))
    os.utime(path, (when, when))
    return path


def stamp(path):
    return os.path.basename(path).split('-')[1]


@pytest.fixture
def sixty_days(tmp_path):
    """One archive a day at 02:00 for 60 days up to NOW, two more on the last day, one more the day before.

    The archives of 11-10 and 11-15 are not verified.
    """
    paths = {}
    for back in range(60):
        day = datetime.datetime(2026, 11, 23, 2) - datetime.timedelta(days=back)
        when = calendar.timegm(day.timetuple())
        paths[when] = make_archive(tmp_path, when, verified=(day.month, day.day) not in ((11, 10), (11, 15)))
    for when in (at(11, 23, 8), at(11, 23, 14), at(11, 22, 20)):
        paths[when] = make_archive(tmp_path, when)
    (tmp_path / 'notes.txt').write_text('not an archive')
    (tmp_path / 'claudebox.tar').write_text('does not match *.tar.*')
    return tmp_path, paths


EXPECTED_KEPT = [
    ('20261123T140000Z', ['newest verified', 'last 1', 'daily 2026-11-23', 'weekly 2026-W48']),
    ('20261123T080000Z', ['last 2']),
    ('20261123T020000Z', ['last 3']),
    ('20261122T200000Z', ['daily 2026-11-22', 'weekly 2026-W47']),
    ('20261121T020000Z', ['daily 2026-11-21']),
    ('20261120T020000Z', ['daily 2026-11-20']),
    ('20261119T020000Z', ['daily 2026-11-19']),
    ('20261118T020000Z', ['daily 2026-11-18']),
    ('20261117T020000Z', ['daily 2026-11-17']),
    ('20261115T020000Z', ['weekly 2026-W46']),  # not verified, kept by the rules like any other
    ('20261108T020000Z', ['weekly 2026-W45']),
]


def test_keep_rules_over_sixty_days(sixty_days):
    folder, paths = sixty_days
    before = set(os.listdir(str(folder)))
    kept_stamps = set(item[0] for item in EXPECTED_KEPT)
    doomed = sorted((path for path in paths.values() if stamp(path) not in kept_stamps), reverse=True)
    assert len(doomed) == 63 - 11
    expected_deleted = []
    for path in doomed:
        verified = stamp(path) != '20261110T020000Z'
        expected_deleted.extend(([path + '.sha256'] if verified else []) + [path + '.manifest.json', path])
    expected_freed = sum(os.path.getsize(path) for path in expected_deleted)

    result = run_retention(str(folder), keep_last=3, keep_daily=7, keep_weekly=4, now=NOW)
    assert [(stamp(item['path']), item['reasons']) for item in result['kept']] == EXPECTED_KEPT
    assert result['deleted'] == expected_deleted
    assert result['freed_bytes'] == expected_freed
    assert result['changed'] is True
    assert result['newest_verified'] == paths[at(11, 23, 14)]
    assert result['msg'] == 'deleted %d file(s), %d bytes; kept 11 archive(s)' % (len(expected_deleted), expected_freed)
    assert result['warnings'] == []
    left = set(os.listdir(str(folder)))
    assert left == before - set(os.path.basename(path) for path in expected_deleted)
    assert 'notes.txt' in left and 'claudebox.tar' in left
    assert result['diff']['before'].count('\n') == 63
    assert result['diff']['after'] == ''.join(sorted(os.path.basename(item['path']) + '\n' for item in result['kept']))


def test_check_mode_returns_the_same_lists_and_deletes_nothing(sixty_days):
    folder, dummy = sixty_days
    before = sorted(os.listdir(str(folder)))
    checked = run_retention(str(folder), keep_last=3, keep_daily=7, keep_weekly=4, now=NOW, check_mode=True)
    assert sorted(os.listdir(str(folder))) == before
    assert checked['msg'].startswith('would delete 155 file(s)')
    real = run_retention(str(folder), keep_last=3, keep_daily=7, keep_weekly=4, now=NOW)
    for key in ('deleted', 'kept', 'freed_bytes', 'newest_verified', 'changed', 'diff'):
        assert checked[key] == real[key], key
    again = run_retention(str(folder), keep_last=3, keep_daily=7, keep_weekly=4, now=NOW)
    assert again['changed'] is False and again['deleted'] == [] and again['kept'] == real['kept']


def test_newest_not_verified_deletes_nothing(sixty_days):
    folder, paths = sixty_days
    failed = make_archive(folder, at(11, 23, 17), verified=False)
    stale = folder / (os.path.basename(failed) + '.partial')
    stale.write_bytes(b'old partial')
    os.utime(str(stale), (NOW - 48 * 3600, NOW - 48 * 3600))
    before = sorted(os.listdir(str(folder)))
    result = run_retention(str(folder), keep_last=0, keep_daily=0, keep_weekly=0, stale_partial_hours=1, now=NOW)
    assert sorted(os.listdir(str(folder))) == before
    assert result['deleted'] == [] and result['freed_bytes'] == 0 and result['changed'] is False
    message = ('the newest archive %s is not verified (no .sha256 beside it): the last backup may have failed, so nothing is deleted'
               % failed)
    assert result['msg'] == message and result['warnings'] == [message]
    assert result['newest_verified'] == paths[at(11, 23, 14)]
    assert len(result['kept']) == 64 + 1  # every archive, and the partial
    assert result['kept'][0] == {'path': failed, 'reasons': ['nothing is deleted: the newest archive is not verified']}
    assert result['kept'][1] == {'path': paths[at(11, 23, 14)], 'reasons': ['newest verified']}
    assert result['kept'][-1]['path'] == str(stale)


def test_keep_last_zero_still_keeps_the_newest_verified(sixty_days):
    folder, paths = sixty_days
    result = run_retention(str(folder), keep_last=0, keep_daily=0, keep_weekly=0, now=NOW)
    assert result['kept'] == [{'path': paths[at(11, 23, 14)], 'reasons': ['newest verified']}]
    assert len([path for path in result['deleted'] if path.endswith('.tar.zst')]) == 62
    archives = [name for name in os.listdir(str(folder)) if name.endswith('.tar.zst')]
    assert archives == [os.path.basename(paths[at(11, 23, 14)])]


def test_partials_stale_are_deleted_with_their_leftovers_fresh_are_kept(tmp_path):
    newest = make_archive(tmp_path, at(11, 23))
    stale_name = archive_name('claudebox', at(11, 20), '1.0.0')
    stale = tmp_path / (stale_name + '.partial')
    stale.write_bytes(b'p' * 500)
    # A run killed while committing left its side files; one killed while copying SQLite left a folder.
    (tmp_path / (stale_name + '.sha256')).write_text('0' * 64 + '  x\n')
    (tmp_path / (stale_name + '.manifest.json')).write_text('{}')
    dumps = tmp_path / (stale_name + '.dumps.partial')
    dumps.mkdir()
    (dumps / 'app.sqlite3').write_bytes(b'd' * 300)
    fresh = tmp_path / (archive_name('claudebox', at(11, 23, 17), '1.0.0') + '.partial')
    fresh.write_bytes(b'f' * 700)
    for path, age_hours in ((stale, 30), (dumps, 25), (fresh, 0.5)):
        os.utime(str(path), (NOW - age_hours * 3600, NOW - age_hours * 3600))
    unrelated = tmp_path / 'other-thing.partial'
    unrelated.write_text('not ours: does not match the pattern')
    os.utime(str(unrelated), (NOW - 100 * 3600, NOW - 100 * 3600))

    result = run_retention(str(tmp_path), now=NOW)
    assert result['deleted'] == [str(dumps), str(tmp_path / (stale_name + '.sha256')), str(tmp_path / (stale_name + '.manifest.json')), str(stale)]
    assert result['freed_bytes'] == 300 + 68 + 2 + 500
    assert result['kept'] == [
        {'path': newest, 'reasons': ['newest verified', 'last 1', 'daily 2026-11-23', 'weekly 2026-W48']},
        {'path': str(fresh), 'reasons': ['partial 0.5 hours old, a backup may be writing it (stale after 24 hours)']},
    ]
    assert sorted(os.listdir(str(tmp_path))) == sorted([
        os.path.basename(newest), os.path.basename(newest) + '.sha256', os.path.basename(newest) + '.manifest.json',
        fresh.name, unrelated.name])


def test_partial_beside_its_complete_archive_keeps_the_archive_side_files(tmp_path):
    newest = make_archive(tmp_path, at(11, 23))
    partial = tmp_path / (os.path.basename(newest) + '.partial')
    partial.write_bytes(b'leftover')
    os.utime(str(partial), (NOW - 48 * 3600, NOW - 48 * 3600))
    result = run_retention(str(tmp_path), now=NOW)
    assert result['deleted'] == [str(partial)]
    assert os.path.exists(newest + '.sha256') and os.path.exists(newest + '.manifest.json')


def test_archives_without_a_time_in_their_name_use_their_mtime(tmp_path):
    old = make_archive(tmp_path, at(11, 1), name='manual-copy.tar.gz')
    new = make_archive(tmp_path, at(11, 22), name='another.tar.zst')
    newest = make_archive(tmp_path, at(11, 23))
    result = run_retention(str(tmp_path), keep_last=2, keep_daily=0, keep_weekly=0, now=NOW)
    assert [item['path'] for item in result['kept']] == [newest, new]
    assert result['deleted'] == [old + '.sha256', old + '.manifest.json', old]


def test_pattern_limits_the_archives_considered(tmp_path):
    mine = [make_archive(tmp_path, at(11, day)) for day in (20, 21, 22)]
    theirs = make_archive(tmp_path, at(11, 1), name=archive_name('other', at(11, 1), '2.0'))
    result = run_retention(str(tmp_path), pattern='claudebox-*.tar.zst', keep_last=1, keep_daily=0, keep_weekly=0, now=NOW)
    assert [item['path'] for item in result['kept']] == [mine[2]]
    assert os.path.exists(theirs)
    assert not os.path.exists(mine[0]) and not os.path.exists(mine[1])


def test_verify_newest_failing_deletes_nothing(tmp_path):
    paths = [make_archive(tmp_path, at(11, day)) for day in (20, 21, 22)]
    calls = []

    def verifier(path):
        calls.append(path)
        return False, 'readable: the archive is truncated'

    result = run_retention(str(tmp_path), keep_last=1, keep_daily=0, keep_weekly=0, verify_newest=True, now=NOW, verifier=verifier)
    assert calls == [paths[2]]
    assert result['deleted'] == []
    assert result['msg'] == ('the newest archive %s failed verification (readable: the archive is truncated), so nothing is deleted' % paths[2])
    assert result['newest_verified'] == paths[1]
    result = run_retention(str(tmp_path), keep_last=1, keep_daily=0, keep_weekly=0, verify_newest=True, now=NOW,
                           verifier=lambda path: (True, ''))
    assert [item['path'] for item in result['kept']] == [paths[2]]


def test_verify_newest_with_the_reader_on_real_archives(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'data.txt').write_text('data ' * 1000)
    dest = tmp_path / 'dest'
    dest.mkdir()
    archives = [create_archive(str(dest), 'svc', [{'name': 'ws', 'path': str(src)}], now=at(11, day))['archive'] for day in (21, 22, 23)]
    with open(archives[2], 'r+b') as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xff]))
    result = run_retention(str(dest), keep_last=1, keep_daily=0, keep_weekly=0, verify_newest=True, now=NOW)
    assert result['deleted'] == []
    assert result['msg'].startswith('the newest archive %s failed verification (' % archives[2])
    os.remove(archives[2])
    os.remove(archives[2] + '.sha256')
    os.remove(archives[2] + '.manifest.json')
    result = run_retention(str(dest), keep_last=1, keep_daily=0, keep_weekly=0, verify_newest=True, now=NOW)
    assert result['deleted'] == [archives[0] + '.sha256', archives[0] + '.manifest.json', archives[0]]


def test_empty_folder_and_errors(tmp_path):
    result = run_retention(str(tmp_path), now=NOW)
    assert result['deleted'] == [] and result['kept'] == [] and result['newest_verified'] is None
    assert result['msg'] == 'no archives matching *.tar.* in %s' % tmp_path
    with pytest.raises(RetentionError) as error:
        run_retention(str(tmp_path / 'missing'))
    assert str(error.value) == 'the folder %s does not exist' % (tmp_path / 'missing')
    with pytest.raises(RetentionError) as error:
        plan_retention(str(tmp_path), keep_daily=-1)
    assert str(error.value) == 'keep_daily cannot be negative'


def test_select_archives_counts_days_and_weeks_that_have_archives():
    # Gaps do not use up the daily slots: the last 3 days *with archives* are kept, as restic does.
    archives = [{'path': str(day), 'timestamp': at(11, day)} for day in (23, 20, 12, 11, 2)]
    assert select_archives(archives, keep_last=0, keep_daily=3, keep_weekly=0) == {
        '23': ['daily 2026-11-23'], '20': ['daily 2026-11-20'], '12': ['daily 2026-11-12']}
    assert select_archives(archives, keep_last=1, keep_daily=0, keep_weekly=2) == {
        '23': ['last 1', 'weekly 2026-W48'], '20': ['weekly 2026-W47']}


# Issue 11, item 8: races and permission errors while scanning are clear failures naming the path, never tracebacks.

class Listing(object):
    """What os.scandir returns, over a list of entries."""

    def __init__(self, entries):
        self.entries = entries

    def __enter__(self):
        return iter(self.entries)

    def __exit__(self, *exc_info):
        return False


class Entry(object):
    """A DirEntry whose stat fails with error."""

    def __init__(self, real, error):
        self.name = real.name
        self.path = real.path
        self._error = error

    def is_file(self, follow_symlinks=True):
        raise self._error

    def is_dir(self, follow_symlinks=True):
        raise self._error

    def stat(self, follow_symlinks=True):
        raise self._error


def test_a_folder_that_cannot_be_listed_is_named(tmp_path, monkeypatch):
    from ansible_collections.clawd.ops.plugins.module_utils import _backup_retention

    def denied(path):
        raise PermissionError(13, 'Permission denied', path)

    monkeypatch.setattr(_backup_retention.os, 'scandir', denied)
    with pytest.raises(RetentionError) as error:
        run_retention(str(tmp_path), now=NOW)
    assert str(error.value) == 'cannot list the folder %s: Permission denied' % tmp_path


def test_an_archive_removed_while_scanning_is_left_out(tmp_path, monkeypatch):
    from ansible_collections.clawd.ops.plugins.module_utils import _backup_retention
    kept = make_archive(tmp_path, at(11, 23))
    gone = make_archive(tmp_path, at(11, 22))
    partial = tmp_path / (archive_name('claudebox', at(11, 21), '1.0.0') + '.partial')
    partial.write_bytes(b'p')
    real_scandir = os.scandir

    def scandir_then_remove(path):
        with real_scandir(path) as listing:
            entries = list(listing)
        for name in (gone, gone + '.sha256', gone + '.manifest.json', str(partial)):
            os.remove(name)  # another retention run, or an operator, got there first
        return Listing(entries)

    monkeypatch.setattr(_backup_retention.os, 'scandir', scandir_then_remove)
    result = run_retention(str(tmp_path), now=NOW)
    assert result['newest_verified'] == kept
    assert [item['path'] for item in result['kept']] == [kept]
    assert result['deleted'] == []


def test_an_archive_that_cannot_be_read_while_scanning_is_named(tmp_path, monkeypatch):
    from ansible_collections.clawd.ops.plugins.module_utils import _backup_retention
    locked = make_archive(tmp_path, at(11, 23))
    real_scandir = os.scandir

    def scandir_denied(path):
        with real_scandir(path) as listing:
            entries = [Entry(entry, PermissionError(13, 'Permission denied', entry.path)) if entry.path == locked else entry
                       for entry in listing]
        return Listing(entries)

    monkeypatch.setattr(_backup_retention.os, 'scandir', scandir_denied)
    with pytest.raises(RetentionError) as error:
        run_retention(str(tmp_path), now=NOW)
    assert str(error.value) == 'cannot read %s: Permission denied' % locked


def test_an_archive_deleted_by_someone_else_before_retention_deletes_it(tmp_path):
    from ansible_collections.clawd.ops.plugins.module_utils._backup_retention import apply_retention
    paths = [make_archive(tmp_path, at(11, day)) for day in (23, 22, 21)]
    plan = plan_retention(str(tmp_path), keep_last=1, keep_daily=0, keep_weekly=0, now=NOW)
    assert [item['path'] for item in plan['delete']] == paths[1:]
    for suffix in ('', '.sha256', '.manifest.json'):
        os.remove(paths[1] + suffix)
    deleted, freed = apply_retention(plan)
    assert deleted == [paths[2] + '.sha256', paths[2] + '.manifest.json', paths[2]]
    assert sorted(os.listdir(str(tmp_path))) == sorted(os.path.basename(paths[0]) + suffix for suffix in ('', '.sha256', '.manifest.json'))
