# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults against a restore (backup_extract's extraction, issue 11), on a real, small tmpfs.

- an archive bigger than the free space: refused before anything is touched;
- the disk filling up anyway half-way (someone else takes the space between the check and the
  writing, monkeypatched in a child process): a clear error, the live data put back as it was,
  changed=true and each target's state;
- zstd and gzip bombs: refused by the expansion cap with nothing written, the disk untouched.

Each extraction runs in a forked child bounded in time and memory, so a regression fails the
test instead of hanging the suite or filling the host.
"""

import hashlib
import io
import os
import random
import tarfile

from ansible_collections.clawd.ops.plugins.module_utils import _backup_extract
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name
from ansible_collections.clawd.ops.plugins.module_utils._backup_extract import BackupExtractError, extract_archive
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import build_archive, compress, run_bounded

NOW = 1795456200  # 2026-11-23T17:50:00Z


def noise(size, seed):
    return random.Random(seed).getrandbits(size * 8).to_bytes(size, 'little')


def snapshot(folder):
    """{relative path: sha256 or 'dir' or link target} of everything under folder."""
    found = {}
    for root, dirs, files in os.walk(str(folder)):
        for name in dirs + files:
            full = os.path.join(root, name)
            relative = os.path.relpath(full, str(folder))
            if os.path.islink(full):
                found[relative] = 'link:' + os.readlink(full)
            elif os.path.isdir(full):
                found[relative] = 'dir'
            else:
                with open(full, 'rb') as handle:
                    found[relative] = hashlib.sha256(handle.read()).hexdigest()
    return found


def live_data(folder):
    folder.mkdir()
    (folder / 'old.bin').write_bytes(noise(512 << 10, 1))
    (folder / 'notes').mkdir()
    (folder / 'notes' / 'today.txt').write_bytes(b'made after the backup\n')
    return folder


def archive_of(tmp_path, sizes):
    members = [{'name': 'volumes/workspace', 'type': 'dir', 'mode': 0o755}]
    members += [{'name': 'volumes/workspace/file-%02d.bin' % index, 'data': noise(size, 100 + index)} for index, size in enumerate(sizes)]
    return build_archive(str(tmp_path / archive_name('claudebox', NOW, '1.0.0')), members)


def extract_in_child(path, targets, before_writing=None, **kwargs):
    """extract_archive in a bounded child; before_writing() runs there between the check and the writing."""
    def run():
        if before_writing is not None:
            real = _backup_extract._write_pass

            def write_pass(*args, **pass_kwargs):
                before_writing()
                return real(*args, **pass_kwargs)
            _backup_extract._write_pass = write_pass
        try:
            return {'result': extract_archive(path, targets, **kwargs)}
        except BackupExtractError as exc:
            return {'error': str(exc), 'changed': exc.changed, 'states': exc.states}
    outcome = run_bounded(run, timeout=120, extra_memory=768 << 20)
    assert outcome[0] == 'ok', outcome
    return outcome[1]


def test_an_archive_bigger_than_the_free_space_is_refused_before_anything_is_touched(tmp_path, small_disk):
    disk = small_disk('4m')
    target = live_data(disk / 'workspace')
    before = snapshot(disk)
    built = archive_of(tmp_path, [2 << 20, 2 << 20])
    outcome = extract_in_child(built['path'], {'workspace': str(target)}, space_margin=0)
    assert outcome['error'].startswith('not enough free space for target workspace (%s): the restore needs 4.2 MB' % target)
    assert outcome['error'].endswith('; nothing was written')
    assert outcome['changed'] is False
    assert snapshot(disk) == before
    outcome = extract_in_child(built['path'], {'workspace': str(target)})  # the default margin (64 MiB) refuses too
    assert 'a margin of 67.1 MB' in outcome['error']
    assert snapshot(disk) == before


def test_a_disk_that_fills_up_half_way_gets_the_live_data_back(tmp_path, small_disk):
    disk = small_disk('8m')
    target = live_data(disk / 'workspace')
    before = snapshot(disk)
    built = archive_of(tmp_path, [1 << 20] * 4)

    def someone_takes_the_space():
        space = os.statvfs(str(disk))
        left = space.f_bavail * space.f_frsize - (3 << 19)  # 1.5 MiB stay free: the restore needs 4
        with open(str(disk / 'someone-else.bin'), 'wb') as handle:
            handle.write(b'\0' * left)

    outcome = extract_in_child(built['path'], {'workspace': str(target)}, before_writing=someone_takes_the_space, space_margin=0)
    assert outcome['changed'] is True
    assert outcome['states'] == {'workspace': 'put back as it was'}
    assert outcome['error'].startswith('extraction failed: cannot write %s/file-0' % target)
    assert '[Errno 28] No space left on device' in outcome['error']
    assert outcome['error'].endswith('target workspace (%s) put back as it was' % target)
    after = snapshot(disk)
    del after['someone-else.bin']
    assert after == before

    os.unlink(str(disk / 'someone-else.bin'))  # the space is back: the same restore now goes through
    outcome = extract_in_child(built['path'], {'workspace': str(target)}, space_margin=0)
    assert outcome['result']['changed'] is True
    assert sorted(snapshot(target)) == ['file-%02d.bin' % index for index in range(4)]


def bomb(tmp_path, compression, size=96 << 20):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
        folder = tarfile.TarInfo('volumes/workspace')
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        info = tarfile.TarInfo('volumes/workspace/zeros')
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    suffix = '.tar.zst' if compression == 'zstd' else '.tar.gz'
    return compress(str(tmp_path / ('bomb' + suffix)), buf.getvalue(), compression)


def test_zstd_and_gzip_bombs_are_refused_by_the_cap(tmp_path, small_disk):
    disk = small_disk('16m')
    target = live_data(disk / 'workspace')
    before = snapshot(disk)
    for compression in ('zstd', 'gzip'):
        path = bomb(tmp_path, compression)
        assert os.path.getsize(path) < (1 << 20)
        outcome = extract_in_child(path, {'workspace': str(target)}, space_margin=0)
        assert outcome['error'].startswith('the archive expands to more than 250 times its size (max_ratio) after '), outcome
        assert outcome['error'].endswith('refused as a decompression bomb; nothing was written')
        assert outcome['changed'] is False
        assert snapshot(disk) == before
