# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults against the backup writer and the readers that choose an archive (issue 11).

- kill -9 of a backup run at each phase (planning, streaming, verification, commit), for real: the
  run is a child process (a driver script written here) in which the phase boundary is monkeypatched
  to SIGKILL its own process. Afterwards the previous verified archive is intact and still the one
  every reader chooses; the next run cleans up and succeeds.
- a full disk (a real, small tmpfs) during a backup.
- races and permission errors in find_newest (the reader that picks the newest archive).
"""

import glob
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _backup_reader
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import BackupReadError, find_newest, verify_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_retention import plan_retention, run_retention
from ansible_collections.clawd.ops.plugins.module_utils._backup_writer import BackupError, create_archive

from conftest import COLLECTIONS

NOW = 1795456200  # 2026-11-23T17:50:00Z: every run gets its own time, no test reads the clock
HOUR = 3600


def gate_choice(folder):
    """What the deploy gate (roles/deploy/tasks/gates.yml) picks: the newest .sha256, its archive beside it."""
    sums = glob.glob(os.path.join(folder, '*.tar.zst.sha256')) + glob.glob(os.path.join(folder, '*.tar.gz.sha256'))
    if not sums:
        return None
    return max(sums, key=os.path.getmtime)[:-len('.sha256')]


def restore_choice(folder):
    """What restore and the drill (roles/restore/tasks/select.yml) pick: the newest manifest, its archive beside it."""
    manifests = glob.glob(os.path.join(folder, '*.tar.zst.manifest.json')) + glob.glob(os.path.join(folder, '*.tar.gz.manifest.json'))
    if not manifests:
        return None
    return max(manifests, key=os.path.getmtime)[:-len('.manifest.json')]


def side_files_without_archive(folder):
    names = set(os.listdir(folder))
    return sorted(name for name in names for suffix in ('.manifest.json', '.sha256')
                  if name.endswith(suffix) and name[:-len(suffix)] not in names)


@pytest.fixture
def source(tmp_path):
    """A source folder: small files, one big enough to be read ahead, a nested folder."""
    src = tmp_path / 'src'
    (src / 'sub' / 'deeper').mkdir(parents=True)
    for index in range(20):
        (src / ('file-%02d.txt' % index)).write_bytes(b'line %d\n' % index * 200)
    (src / 'sub' / 'big.bin').write_bytes(os.urandom(3 << 20))
    (src / 'sub' / 'deeper' / 'notes.txt').write_bytes(b'notes\n')
    return str(src)


@pytest.fixture
def dest_with_a_backup(tmp_path, source):
    """A destination that holds one verified archive (the previous backup); returns (dest, that archive)."""
    dest = tmp_path / 'dest'
    dest.mkdir()
    previous = create_archive(str(dest), 'claudebox', [{'name': 'ws', 'path': source}], version='1.0.0', now=NOW)
    return str(dest), previous['archive']


# kill -9 at each phase ------------------------------------------------------------------------------

DRIVER = textwrap.dedent('''
    import os
    import signal
    import sys

    sys.path.insert(0, sys.argv[1])
    from ansible_collections.clawd.ops.plugins.module_utils import _backup_writer as writer

    dest, source, phase, count = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])


    def die():
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)


    def kill_after(owner, name, calls=1):
        """owner.name runs calls times, then the process is killed right after the last one returned."""
        real = getattr(owner, name)
        seen = []

        def wrapper(*args, **kwargs):
            result = real(*args, **kwargs)
            seen.append(1)
            if len(seen) >= calls:
                die()
            return result

        setattr(owner, name, wrapper)


    def kill_before(owner, name, calls=1):
        """The process is killed when owner.name is called for the calls-th time, before it runs."""
        real = getattr(owner, name)
        seen = []

        def wrapper(*args, **kwargs):
            seen.append(1)
            if len(seen) >= calls:
                die()
            return real(*args, **kwargs)

        setattr(owner, name, wrapper)


    if phase == 'planning':
        kill_after(writer, '_plan')  # planned, nothing written yet
    elif phase == 'streaming':
        kill_after(writer._ArchiveWriter, 'add_entry', count)  # in the middle of the tar stream
    elif phase == 'verification':
        kill_before(writer, 'verify_archive')  # the .partial is written, the reader starts
    elif phase == 'verified':
        kill_after(writer, 'verify_archive')  # verified, not committed
    elif phase == 'side-file':
        kill_after(writer, '_write_side_file', count)  # the commit's side files being written
    elif phase == 'rename':
        kill_before(writer.os, 'replace', count)  # the commit's renames: the archive's, then its side files'
    else:
        raise SystemExit('unknown phase %s' % phase)

    writer.create_archive(dest, 'claudebox', [{'name': 'ws', 'path': source}], version='1.1.0', now=int(sys.argv[6]))
    print('the run was not killed')
''')

PHASES = [
    ('planning', 1),
    ('streaming', 12),
    ('verification', 1),
    ('verified', 1),
    ('side-file', 1),
    ('side-file', 2),
    ('rename', 1),  # before the archive's rename
    ('rename', 2),  # the archive renamed, its side files still under .partial names
    ('rename', 3),  # the .sha256 renamed, the manifest not yet
]


def run_killed(tmp_path, dest, source, phase, count, now):
    driver = tmp_path / 'driver.py'
    driver.write_text(DRIVER)
    done = subprocess.run([sys.executable, str(driver), COLLECTIONS, dest, source, phase, str(count), str(now)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize('phase, count', PHASES, ids=['%s-%d' % item for item in PHASES])
def test_kill_9_during_a_backup_keeps_the_previous_archive_chosen(tmp_path, source, dest_with_a_backup, phase, count):
    dest, previous = dest_with_a_backup
    before = open(previous, 'rb').read()
    run_killed(tmp_path, dest, source, phase, count, NOW + HOUR)

    # The previous verified archive is intact, and still what every reader chooses; once the new archive's .sha256
    # is there (the last kill point), it is whole and verified, and the readers of .sha256 files may choose it.
    assert open(previous, 'rb').read() == before
    assert verify_archive(previous, require_checksum=True)['ok']
    assert restore_choice(dest) == previous
    newest = find_newest(dest)
    assert gate_choice(dest) == plan_retention(dest, now=NOW + HOUR)['newest_verified'] == newest
    if (phase, count) == ('rename', 3):
        assert newest != previous and verify_archive(newest, require_checksum=True)['ok']
    else:
        assert newest == previous
    # Nothing partial is taken for an archive, and no side file names a missing archive.
    assert side_files_without_archive(dest) == []
    for name in os.listdir(dest):
        path = os.path.join(dest, name)
        if name.endswith(('.tar.zst', '.tar.gz')) and path != previous:
            assert verify_archive(path)['ok'], 'a killed run left %s, which does not verify' % name

    # The next run cleans up and succeeds; the archive it writes is then the one chosen.
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': source}], version='1.2.0', now=NOW + 2 * HOUR)
    assert [name for name in os.listdir(dest) if name.endswith('.partial')] == []
    assert side_files_without_archive(dest) == []
    assert find_newest(dest) == gate_choice(dest) == restore_choice(dest) == result['archive']
    retention = run_retention(dest, now=NOW + 2 * HOUR)
    assert retention['newest_verified'] == result['archive'] and retention['warnings'] == []
    for name in os.listdir(dest):
        if name.endswith('.tar.zst'):
            assert verify_archive(os.path.join(dest, name), require_checksum=True)['ok'], name


def test_kill_9_of_a_run_does_not_remove_what_a_live_run_holds(tmp_path, source, dest_with_a_backup):
    """The clean-up of leftovers must not take a live run's .partial for one: only an unlocked one is a leftover."""
    import fcntl
    dest, previous = dest_with_a_backup
    live = os.path.join(dest, 'claudebox-20261123T185500Z-1.1.0.tar.zst.partial')
    fd = os.open(live, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        run_killed(tmp_path, dest, source, 'streaming', 12, NOW + HOUR)
        result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': source}], version='1.2.0', now=NOW + 2 * HOUR)
        assert os.path.exists(live)
        assert result['cleaned_up'] == [os.path.join(dest, 'claudebox-20261123T185000Z-1.1.0.tar.zst.partial')]
    finally:
        os.close(fd)


# A full disk --------------------------------------------------------------------------------------

def test_a_full_disk_during_a_backup_is_a_clear_error_and_leaves_the_previous_archive(tmp_path, small_disk, monkeypatch):
    from ansible_collections.clawd.ops.plugins.module_utils import _backup_writer
    dest = str(small_disk('4m'))
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'small.txt').write_bytes(b'small\n' * 100)
    previous = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': str(src)}], version='1.0.0', now=NOW)['archive']
    before = open(previous, 'rb').read()
    (src / 'data.bin').write_bytes(os.urandom(2 << 20))  # fits by the disk check: what fills the disk comes after it
    real_check = _backup_writer._check_disk

    def checked_then_the_app_logs(*args):
        real_check(*args)  # the room was there when the run looked
        with open(os.path.join(dest, 'app.log'), 'wb') as handle:  # another writer takes it meanwhile
            handle.write(b'l' * (int(2.5 * (1 << 20))))

    monkeypatch.setattr(_backup_writer, '_check_disk', checked_then_the_app_logs)
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': str(src)}], version='1.1.0', now=NOW + HOUR, max_disk_percent=100)
    message = str(error.value)
    assert 'the filesystem of the destination folder %s is full (' % dest in message, message
    assert ' bytes free of ' not in message and ' of 4194304 bytes free; the sources hold ' in message, message
    assert message.endswith('No space left on device)'), message
    assert sorted(os.listdir(dest)) == sorted(['app.log'] + [os.path.basename(previous) + suffix for suffix in ('', '.manifest.json', '.sha256')])
    assert open(previous, 'rb').read() == before
    assert find_newest(dest) == gate_choice(dest) == restore_choice(dest) == previous
    assert verify_archive(previous, require_checksum=True)['ok']


def test_a_disk_too_small_for_the_sources_is_refused_before_writing(tmp_path, small_disk):
    dest = str(small_disk('2m'))
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'data.bin').write_bytes(os.urandom(3 << 20))
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': str(src)}], version='1.0.0', now=NOW)
    assert str(error.value).startswith('the sources hold %d bytes; archiving them could fill the filesystem of %s to ' % (3 << 20, dest))
    assert os.listdir(dest) == []


# find_newest: races and permission errors ------------------------------------------------------------

def test_find_newest_names_a_folder_it_cannot_list(tmp_path, monkeypatch):
    def denied(path):
        raise PermissionError(13, 'Permission denied', path)

    monkeypatch.setattr(_backup_reader.os, 'listdir', denied)
    with pytest.raises(BackupReadError) as error:
        find_newest(str(tmp_path))
    assert str(error.value) == 'cannot list the folder %s: Permission denied' % tmp_path


def test_find_newest_names_a_folder_that_is_gone(tmp_path):
    with pytest.raises(BackupReadError) as error:
        find_newest(str(tmp_path / 'gone'))
    assert str(error.value) == 'cannot list the folder %s: No such file or directory' % (tmp_path / 'gone')


def test_find_newest_names_an_archive_it_cannot_read(tmp_path, monkeypatch):
    archive = tmp_path / 'claudebox-20261123T175000Z-1.0.0.tar.zst'
    archive.write_bytes(b'x')
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if path == str(archive):
            raise PermissionError(13, 'Permission denied', path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(_backup_reader.os, 'stat', stat)
    with pytest.raises(BackupReadError) as error:
        find_newest(str(tmp_path))
    assert str(error.value) == 'cannot read %s: Permission denied' % archive


def test_find_newest_leaves_out_an_archive_removed_while_it_looks(tmp_path, monkeypatch):
    older = tmp_path / 'claudebox-20261122T175000Z-1.0.0.tar.zst'
    newer = tmp_path / 'claudebox-20261123T175000Z-1.0.0.tar.zst'
    older.write_bytes(b'x')
    newer.write_bytes(b'x')
    real_listdir = os.listdir

    def listdir_then_remove(path):
        names = real_listdir(path)
        os.remove(str(newer))  # retention got there first
        return names

    monkeypatch.setattr(_backup_reader.os, 'listdir', listdir_then_remove)
    assert find_newest(str(tmp_path)) == str(older)
