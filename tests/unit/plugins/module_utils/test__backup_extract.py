# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Restoring from backup archives: what is written is what was checked, refusals before anything is
touched, the live data put back after a failure."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import os
import tarfile

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _backup_extract
from ansible_collections.clawd.ops.plugins.module_utils._backup_extract import BackupExtractError, extract_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import verify_archive
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import (
    UNSAFE,
    compress,
    failed_names,
    make,
    name_for,
    sample_members,
    tree,
)


@pytest.fixture(params=[True, False], ids=['threads', 'one-thread'])
def threads(request):
    return request.param


FILTERS = [pytest.param('stdlib', marks=pytest.mark.skipif(not _backup_extract.HAS_TAR_FILTERS, reason='this Python has no tarfile.data_filter')),
           'fallback']
AS_ROOT = hasattr(os, 'geteuid') and os.geteuid() == 0


@pytest.mark.parametrize('data_filter', FILTERS)
def test_extract_restores_content_modes_symlinks_and_owners(tmp_path, data_filter, threads):
    built = make(tmp_path)
    target = tmp_path / 'restore' / 'workspace'
    dumps = tmp_path / 'restore' / 'dumps'
    result = extract_archive(built['path'], {'workspace': str(target), 'dumps': str(dumps)}, data_filter=data_filter, threads=threads)
    assert result == {
        'changed': True, 'filter': data_filter, 'skipped_members': 3,
        'targets': {
            'workspace': {'path': str(target), 'files': 4, 'dirs': 1, 'symlinks': 2, 'bytes': 1400 + 18 + 76800, 'removed': 0},
            'dumps': {'path': str(dumps), 'files': 1, 'dirs': 0, 'symlinks': 0, 'bytes': 4016, 'removed': 0},
        },
    }
    assert tree(target) == {
        'notes.txt': ('file', 0o644, b'hello backups\n' * 100),
        'run.sh': ('file', 0o755, b'#!/bin/sh\necho hi\n'),
        'empty': ('file', 0o600, b''),
        'sub': ('dir', 0o700, None),
        'sub/data.bin': ('file', 0o640, bytes(range(256)) * 300),
        'link': ('symlink', None, 'notes.txt'),
        'sub/up': ('symlink', None, '../run.sh'),
    }
    assert tree(dumps) == {'app.sqlite3': ('file', 0o600, b'SQLite format 3\0' + b'\1' * 4000)}
    assert os.stat(str(target / 'notes.txt')).st_mtime == 1795000000
    assert os.stat(str(target)).st_mode & 0o7777 == 0o755
    if AS_ROOT:
        assert (os.lstat(str(target / 'sub' / 'data.bin')).st_uid, os.lstat(str(target / 'link')).st_gid, os.stat(str(target)).st_uid) == (1000, 1000, 1000)


@pytest.mark.parametrize('data_filter', FILTERS)
def test_extract_strips_setuid_and_group_other_write(tmp_path, data_filter):
    members = [
        {'name': 'volumes/workspace', 'type': 'dir', 'mode': 0o1777},
        {'name': 'volumes/workspace/suid', 'data': b'x', 'mode': 0o4755},
        {'name': 'volumes/workspace/shared', 'data': b'x', 'mode': 0o666},
        {'name': 'volumes/workspace/noexec', 'data': b'x', 'mode': 0o055},
        {'name': 'volumes/workspace/group-dir', 'type': 'dir', 'mode': 0o2775},
    ]
    built = make(tmp_path, members)
    target = tmp_path / 'restore'
    extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert {name: mode for name, (_kind, mode, _data) in tree(target).items()} == {
        'suid': 0o755, 'shared': 0o644, 'noexec': 0o644, 'group-dir': 0o755}
    assert os.stat(str(target)).st_mode & 0o7777 == 0o755


def test_extract_clears_the_target_contents_but_keeps_the_folder(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'mountpoint'
    (target / 'made-after-backup' / 'deep').mkdir(parents=True)
    (target / 'notes.txt').write_bytes(b'newer notes')
    (target / 'stale-link').symlink_to('/etc')
    inode = os.stat(str(target)).st_ino
    result = extract_archive(built['path'], {'workspace': str(target)})
    assert result['targets']['workspace']['removed'] == 3
    assert os.stat(str(target)).st_ino == inode
    assert sorted(tree(target)) == ['empty', 'link', 'notes.txt', 'run.sh', 'sub', 'sub/data.bin', 'sub/up']
    assert (target / 'notes.txt').read_bytes() == b'hello backups\n' * 100


def test_extract_without_clear_keeps_other_files_and_replaces_archived_ones(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'kept.txt').write_bytes(b'kept')
    (target / 'notes.txt').write_bytes(b'newer notes')
    (target / 'link').write_bytes(b'a file where the archive has a symlink')
    (target / 'sub').mkdir()
    result = extract_archive(built['path'], {'workspace': str(target)}, clear=False)
    assert result['targets']['workspace']['removed'] == 0
    assert (target / 'kept.txt').read_bytes() == b'kept'
    assert (target / 'notes.txt').read_bytes() == b'hello backups\n' * 100
    assert os.readlink(str(target / 'link')) == 'notes.txt'


def test_extract_check_mode_writes_nothing(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    before = tree(tmp_path)
    result = extract_archive(built['path'], {'workspace': str(target), 'dumps': str(tmp_path / 'not-yet')}, check_mode=True)
    assert result['changed'] is True
    assert result['targets']['workspace'] == {'path': str(target), 'files': 4, 'dirs': 1, 'symlinks': 2, 'bytes': 78218, 'removed': 1}
    assert tree(tmp_path) == before
    assert not (tmp_path / 'not-yet').exists()


def test_extract_refuses_an_unknown_source_before_writing(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target), 'database': str(tmp_path / 'db')})
    assert str(error.value) == 'the archive has no database to restore (it has: config, dumps, workspace); nothing was written'
    assert tree(target) == {'current.txt': ('file', 0o644, b'current')}
    assert not (tmp_path / 'db').exists()


@pytest.mark.parametrize('data_filter', FILTERS)
@pytest.mark.parametrize('kind', sorted(UNSAFE))
def test_extract_refuses_each_unsafe_member_with_nothing_written(tmp_path, kind, data_filter):
    unsafe, problem = UNSAFE[kind]
    built = make(tmp_path, sample_members() + [unsafe])
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    before = tree(tmp_path)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert str(error.value) == 'the archive has unsafe members: %s; nothing was written' % problem
    assert tree(tmp_path) == before


@pytest.mark.parametrize('data_filter', FILTERS)
def test_extract_refuses_to_write_through_a_symlink_on_disk(tmp_path, data_filter):
    """A target kept as it is (clear=false) with a symlink out of it: the filter refuses up front."""
    built = make(tmp_path)
    target = tmp_path / 'restore'
    outside = tmp_path / 'outside'
    outside.mkdir()
    target.mkdir()
    (target / 'sub').symlink_to(str(outside))
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, clear=False, data_filter=data_filter)
    assert str(error.value).startswith('the archive has unsafe members: member sub')
    assert str(error.value).endswith('; nothing was written')
    assert list(outside.iterdir()) == []
    assert sorted(tree(target)) == ['sub']


def test_extract_of_a_truncated_archive_writes_nothing(tmp_path):
    built = make(tmp_path)
    data = open(built['path'], 'rb').read()
    with open(built['path'], 'wb') as handle:
        handle.write(data[:len(data) - 30])
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)})
    assert str(error.value).startswith('cannot read the archive: the archive is truncated')
    assert tree(target) == {'current.txt': ('file', 0o644, b'current')}


def test_extract_stdlib_filter_is_refused_where_python_lacks_it(tmp_path, monkeypatch):
    built = make(tmp_path)
    monkeypatch.setattr(_backup_extract, 'HAS_TAR_FILTERS', False)
    with pytest.raises(BackupExtractError, match='has no tarfile.data_filter'):
        extract_archive(built['path'], {'workspace': str(tmp_path / 'x')}, data_filter='stdlib')


def test_extract_uses_the_fallback_where_python_lacks_the_filter(tmp_path, monkeypatch):
    """Debian bookworm's Python 3.11.2: no tarfile.data_filter (the members are written by this module, not tarfile)."""
    built = make(tmp_path)
    monkeypatch.setattr(_backup_extract, 'HAS_TAR_FILTERS', False)
    monkeypatch.delattr(tarfile, 'data_filter', raising=False)
    result = extract_archive(built['path'], {'workspace': str(tmp_path / 'restore')})
    assert result['filter'] == 'fallback'
    assert (tmp_path / 'restore' / 'run.sh').read_bytes() == b'#!/bin/sh\necho hi\n'


_HAS_REAL_FILTERS = _backup_extract.HAS_TAR_FILTERS


def fallback_cases(dest):
    def info(name, kind=tarfile.REGTYPE, mode=0o644, linkname=''):
        member = tarfile.TarInfo(name)
        member.type, member.mode, member.linkname = kind, mode, linkname
        member.uid, member.gid, member.uname, member.gname = 1000, 1000, 'user', 'group'
        return member
    os.symlink('/etc', os.path.join(dest, 'escape'))
    return [
        info('plain.txt'), info('exec', mode=0o4775), info('noexec', mode=0o077), info('dir', tarfile.DIRTYPE, 0o2777),
        info('/abs/path'), info('../up'), info('a/../../up'), info('escape/passwd'),
        info('link', tarfile.SYMTYPE, linkname='plain.txt'), info('link', tarfile.SYMTYPE, linkname='/etc/passwd'),
        info('sub/link', tarfile.SYMTYPE, linkname='../../out'), info('hard', tarfile.LNKTYPE, linkname='plain.txt'),
        info('hard', tarfile.LNKTYPE, linkname='../out'), info('dev', tarfile.CHRTYPE), info('blk', tarfile.BLKTYPE),
        info('fifo', tarfile.FIFOTYPE),
    ]


@pytest.mark.skipif(not _HAS_REAL_FILTERS, reason='compares with tarfile.data_filter')
def test_fallback_filter_follows_tarfile_data_filter(tmp_path):
    for member in fallback_cases(str(tmp_path)):
        try:
            expected = tarfile.data_filter(member, str(tmp_path))  # pylint: disable=no-member
        except tarfile.FilterError:  # pylint: disable=no-member
            expected = 'refused'
        try:
            got = _backup_extract.fallback_data_filter(member, str(tmp_path))
        except _backup_extract.UnsafeMemberError as exc:
            assert str(exc).startswith('member %s: ' % member.name)
            got = 'refused'
        if expected == 'refused' or got == 'refused':
            assert (member.name, got) == (member.name, expected)
        else:
            fields = ('name', 'type', 'mode', 'uid', 'gid', 'uname', 'gname', 'linkname')
            assert [getattr(got, field) for field in fields] == [getattr(expected, field) for field in fields], member.name


@pytest.mark.parametrize('data_filter', FILTERS)
def test_a_file_at_a_source_root_is_refused(tmp_path, data_filter):
    members = [{'name': 'volumes/workspace', 'data': b'not a folder', 'mode': 0o600, 'uid': 4242, 'gid': 4242}]
    built = make(tmp_path, members)
    target = tmp_path / 'restore'
    target.mkdir()
    os.chmod(str(target), 0o755)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert str(error.value) == ('the archive has unsafe members: member volumes/workspace: a file at the root of a source '
                                '(only a folder can be restored into a target); nothing was written')
    assert os.stat(str(target)).st_mode & 0o7777 == 0o755
    assert os.stat(str(target)).st_uid != 4242
    assert 'safety' in failed_names(verify_archive(built['path']))


def swap_after_plan(monkeypatch, path, replacement):
    """Replace the archive file once the extraction planned from it (someone swapping it)."""
    real = _backup_extract._plan_extraction

    def plan_then_swap(*args, **kwargs):
        planned = real(*args, **kwargs)
        os.replace(replacement, path)
        return planned
    monkeypatch.setattr(_backup_extract, '_plan_extraction', plan_then_swap)


def live_target(tmp_path):
    target = tmp_path / 'live'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    (target / 'folder').mkdir()
    (target / 'folder' / 'deep.txt').write_bytes(b'deep')
    return target


@pytest.mark.parametrize('data_filter', FILTERS)
def test_a_hard_link_swapped_in_after_the_plan_is_refused_and_undone(tmp_path, monkeypatch, data_filter):
    built = make(tmp_path)
    other = tmp_path / 'other'
    other.mkdir()
    swapped = make(other, sample_members()[:-1] + [UNSAFE['hard link'][0]])  # as many members as the original
    target = live_target(tmp_path)
    before = tree(target)
    swap_after_plan(monkeypatch, built['path'], swapped['path'])
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert str(error.value).startswith('extraction failed: the archive changed after it was checked: member volumes/workspace/hard: hard link')
    assert str(error.value).endswith('target workspace (%s) put back as it was' % target)
    assert error.value.changed is True
    assert tree(target) == before


def test_other_bytes_swapped_in_after_the_plan_are_undone(tmp_path, monkeypatch):
    built = make(tmp_path)
    other = tmp_path / 'other'
    other.mkdir()
    members = sample_members()
    members[1] = dict(members[1], data=b'swapped notes\n' * 100)
    swapped = make(other, members)
    target = live_target(tmp_path)
    before = tree(target)
    swap_after_plan(monkeypatch, built['path'], swapped['path'])
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target), 'dumps': str(tmp_path / 'dumps')})
    assert str(error.value).startswith('extraction failed: the archive changed after it was checked: the file read has sha256 %s, '
                                       'the check read %s' % (swapped['sha256'], built['sha256']))
    assert 'target workspace (%s) put back as it was' % target in str(error.value)
    assert 'target dumps (%s) removed (it did not exist before)' % (tmp_path / 'dumps') in str(error.value)
    assert error.value.changed is True
    assert tree(target) == before
    assert not (tmp_path / 'dumps').exists()


def test_extract_refuses_an_archive_other_than_the_verified_one(tmp_path):
    built = make(tmp_path)
    target = live_target(tmp_path)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, expected_sha256='0' * 64)
    assert str(error.value) == 'the archive has sha256 %s, not the expected %s; nothing was written' % (built['sha256'], '0' * 64)
    assert extract_archive(built['path'], {'workspace': str(target)}, expected_sha256=built['sha256'])['changed'] is True


def fake_statvfs(monkeypatch, free_bytes, block=4096, inodes=100000):
    def statvfs(path):
        return os.statvfs_result((block, block, 1 << 30, free_bytes // block, free_bytes // block, 1 << 20, inodes, inodes, 0, 255))
    monkeypatch.setattr(os, 'statvfs', statvfs)


def test_extract_refuses_without_room_before_touching_anything(tmp_path, monkeypatch):
    built = make(tmp_path)
    target = live_target(tmp_path)
    before = tree(target)
    fake_statvfs(monkeypatch, 14 * 4096)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, space_margin=0)
    assert str(error.value) == ('not enough free space for target workspace (%s): the restore needs 0.1 MB (the data, '
                                'the blocks of 7 entries and a margin of 0.0 MB), 0.1 MB are free (57344 bytes, 106890 needed); '
                                'nothing was written' % target)
    assert tree(target) == before
    with pytest.raises(BackupExtractError, match='not enough free space'):
        extract_archive(built['path'], {'workspace': str(target)}, check_mode=True, space_margin=0)
    fake_statvfs(monkeypatch, 200000)
    with pytest.raises(BackupExtractError, match='a margin of 1.0 MB'):
        extract_archive(built['path'], {'workspace': str(target)}, space_margin=1000000)
    assert extract_archive(built['path'], {'workspace': str(target)}, space_margin=0)['changed'] is True


def test_extract_refuses_without_enough_inodes(tmp_path, monkeypatch):
    built = make(tmp_path)
    fake_statvfs(monkeypatch, 1 << 30, inodes=3)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(tmp_path / 'restore')})
    assert str(error.value).startswith('not enough free inodes for target workspace (%s): the restore makes 7 entries, 3 are free' % (tmp_path / 'restore'))


def zero_bomb(tmp_path, compression, size=96 << 20):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo('volumes/workspace/zeros')
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return compress(str(tmp_path / name_for(compression)), buf.getvalue(), compression)


@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
def test_a_decompression_bomb_is_refused_by_the_ratio_cap(tmp_path, compression):
    path = zero_bomb(tmp_path, compression)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(path, {'workspace': str(tmp_path / 'restore')}, max_ratio=100)
    assert str(error.value).startswith('the archive expands to more than 100 times its size (max_ratio) ')
    assert str(error.value).endswith('nothing was written')
    assert not (tmp_path / 'restore').exists()


def test_the_total_size_cap(tmp_path):
    built = make(tmp_path)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(tmp_path / 'restore')}, max_total_size=50000)
    assert str(error.value) == ('the archive holds more than 50000 bytes of tar data (max_total_size): refused at 0.1 MB; '
                                'nothing was written')
    assert not (tmp_path / 'restore').exists()


def disk_full_at_data_bin(monkeypatch):
    """Creating sub/data.bin fails as on a full disk; every other open works."""
    real_open = os.open

    def full_disk(path, flags, *args, **kwargs):
        if str(path).endswith('data.bin') and flags & os.O_CREAT:
            raise OSError(28, 'No space left on device')
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, 'open', full_disk)


def test_a_write_failure_puts_the_live_data_back_and_says_so(tmp_path, monkeypatch):
    built = make(tmp_path)
    target = live_target(tmp_path)
    before = tree(target)
    disk_full_at_data_bin(monkeypatch)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)})
    assert str(error.value) == ('extraction failed: cannot write %s: [Errno 28] No space left on device; '
                                'target workspace (%s) put back as it was' % (target / 'sub' / 'data.bin', target))
    assert error.value.changed is True
    assert error.value.states == {'workspace': 'put back as it was'}
    assert tree(target) == before


def test_a_write_failure_without_clear_states_what_was_written(tmp_path, monkeypatch):
    built = make(tmp_path)
    target = live_target(tmp_path)
    disk_full_at_data_bin(monkeypatch)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, clear=False)
    assert error.value.changed is True
    assert error.value.states == {'workspace': 'partly restored: its contents were kept (clear=false) and 4 members were written over them'}


@pytest.mark.parametrize('error_number', [13, 2], ids=['permission', 'gone'])
def test_a_target_that_cannot_be_listed_is_named(tmp_path, monkeypatch, error_number):
    built = make(tmp_path)
    target = live_target(tmp_path)
    real_scandir, real_listdir = os.scandir, os.listdir

    def refuse(real):
        def call(path='.'):
            if str(path) == str(target):
                raise OSError(error_number, os.strerror(error_number), str(path))
            return real(path)
        return call
    monkeypatch.setattr(os, 'scandir', refuse(real_scandir))
    monkeypatch.setattr(os, 'listdir', refuse(real_listdir))
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)})
    assert str(error.value) == "cannot list target workspace (%s): [Errno %d] %s: '%s'; nothing was written" % (
        target, error_number, os.strerror(error_number), target)


def test_clearing_cut_short_keeps_what_was_never_moved_aside(tmp_path, monkeypatch):
    """A rename that fails half-way through clearing: undo puts back what was moved and never deletes what was not."""
    built = make(tmp_path)
    target = live_target(tmp_path)
    (target / 'more.txt').write_bytes(b'more')
    (target / 'zlast.txt').write_bytes(b'last')
    before = tree(target)
    real_rename = os.rename
    calls = []

    def second_rename_fails(source, destination, *args, **kwargs):
        calls.append(source)
        if len(calls) == 2:
            raise OSError(16, 'Device or resource busy')
        return real_rename(source, destination, *args, **kwargs)
    monkeypatch.setattr(os, 'rename', second_rename_fails)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)})
    monkeypatch.setattr(os, 'rename', real_rename)
    assert error.value.states == {'workspace': 'put back as it was'}
    assert tree(target) == before
