# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tar stream and zstd layers: headers read as tarfile reads them, damage named, hostile headers refused
(each hostile read runs in a child bounded in time and memory)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import subprocess
import tarfile

import pytest
import zstandard

from ansible_collections.clawd.ops.plugins.module_utils import _backup_tar
from ansible_collections.clawd.ops.plugins.module_utils._backup_extract import BackupExtractError, extract_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import failure_summary, verify_archive
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import (
    HAVE_GNU_TAR,
    check,
    compress,
    end_marker,
    header_block,
    name_for,
    padded,
    run_bounded,
)


def tar_bytes(members, tar_format=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tar_format) as tar:
        for member in members:
            info = tarfile.TarInfo(member['name'])
            info.size = len(member['data'])
            tar.addfile(info, io.BytesIO(member['data']))
    return buf.getvalue()


def write_zstd(path, payload, frames=1):
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    step = -(-len(payload) // frames)
    with open(path, 'wb') as handle:
        for start in range(0, len(payload), step):
            handle.write(compressor.compress(payload[start:start + step]))


SIMPLE = [{'name': 'volumes/w/a.txt', 'data': b'a' * 1000}, {'name': 'volumes/w/b.txt', 'data': b'b' * 3000}]


def test_corrupt_tar_header_is_named(tmp_path):
    payload = bytearray(tar_bytes(SIMPLE, tarfile.USTAR_FORMAT))
    payload[1536 + 10] ^= 0x20  # in the name of the second member's header
    path = str(tmp_path / name_for())
    write_zstd(path, bytes(payload))
    reason = check(verify_archive(path, require_manifest=False), 'readable')['reason']
    assert reason == 'tar data is corrupt: bad header checksum at byte 1536 of the tar stream (after member volumes/w/a.txt)'


def test_data_after_the_end_of_archive_marker(tmp_path):
    path = str(tmp_path / name_for())
    write_zstd(path, tar_bytes(SIMPLE) + b'trailing garbage')
    assert check(verify_archive(path, require_manifest=False), 'readable')['reason'] == 'tar data is corrupt: data follows the end-of-archive marker'


def test_a_lone_zero_block_followed_by_data(tmp_path):
    payload = tar_bytes(SIMPLE[:1])
    end = 512 + 1024
    path = str(tmp_path / name_for())
    write_zstd(path, payload[:end] + b'\0' * 512 + tar_bytes(SIMPLE[1:]))
    reason = check(verify_archive(path, require_manifest=False), 'readable')['reason']
    assert reason == 'tar data is corrupt after member volumes/w/a.txt: a lone zero block at byte 1536 of the tar stream is followed by data'


def test_missing_second_zero_block(tmp_path):
    payload = tar_bytes(SIMPLE)
    end = (512 + 1024) + (512 + 3072) + 512
    path = str(tmp_path / name_for())
    write_zstd(path, payload[:end])
    reason = check(verify_archive(path, require_manifest=False), 'readable')['reason']
    assert reason == 'the archive is truncated after member volumes/w/b.txt: the end-of-archive marker is cut short'


@pytest.mark.parametrize('frames', [1, 2, 5])
def test_several_zstd_frames_are_one_stream(tmp_path, frames):
    path = str(tmp_path / name_for())
    write_zstd(path, tar_bytes(SIMPLE), frames)
    report = verify_archive(path, require_manifest=False)
    assert report['ok'] is True, failure_summary(report)
    assert report['bytes'] == 4000


def test_a_skippable_zstd_frame_is_skipped(tmp_path):
    path = str(tmp_path / name_for())
    write_zstd(path, tar_bytes(SIMPLE))
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(b'\x50\x2a\x4d\x18' + (5).to_bytes(4, 'little') + b'hello' + data)
    report = verify_archive(path, require_manifest=False)
    assert report['ok'] is True, failure_summary(report)


def headers_of(payload):
    chunks = iter([payload[start:start + 777] for start in range(0, len(payload), 777)])
    feed = _backup_tar._TarFeed(lambda: next(chunks, b''))
    headers = _backup_tar._TarHeaders(feed)
    found = []
    while True:
        info = headers.next()
        if info is None:
            return found, headers.end
        found.append(info)
        stored = info.size + (-info.size % 512) if info.isreg() else 0
        feed.consume(stored)


def summary(info):
    # Python < 3.11 leaves the / of a GNU long directory name; both read the same member
    name = info.name.rstrip('/') if info.isdir() else info.name
    return (name, info.type, info.size, info.mode, info.uid, info.gid, info.linkname, int(info.mtime), info.uname, info.gname)


TRICKY = [
    {'name': 'volumes/w/' + 'long-folder-name-' * 8 + '/file-with-a-long-name-' * 3, 'data': b'long'},
    {'name': 'volumes/w/ünïcødé €.txt', 'data': 'é'.encode()},
    {'name': 'volumes/w/dir', 'type': tarfile.DIRTYPE},
    {'name': 'volumes/w/link', 'type': tarfile.SYMTYPE, 'linkname': 'target/' + 'x' * 150},
    {'name': 'volumes/w/big-uid', 'data': b'u', 'uid': 3000000, 'gid': 70000, 'uname': 'someone', 'gname': 'group'},
    {'name': 'volumes/w/mtime', 'data': b'm', 'mtime': 1795456200.5},
    {'name': 'volumes/w/empty', 'data': b''},
]


@pytest.mark.parametrize('tar_format', [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT], ids=['pax', 'gnu'])
def test_header_parser_agrees_with_tarfile(tar_format):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tar_format) as tar:
        for spec in TRICKY:
            info = tarfile.TarInfo(spec['name'])
            info.type = spec.get('type', tarfile.REGTYPE)
            info.linkname = spec.get('linkname', '')
            for key in ('uid', 'gid', 'uname', 'gname', 'mtime'):
                if key in spec:
                    setattr(info, key, spec[key])
            data = spec.get('data', b'')
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    payload = buf.getvalue()
    expected = [summary(info) for info in tarfile.open(fileobj=io.BytesIO(payload)).getmembers()]
    found, end = headers_of(payload)
    assert [summary(info) for info in found] == expected
    assert end == 'marker'


@pytest.mark.skipif(not HAVE_GNU_TAR, reason='needs GNU tar and zstd')
@pytest.mark.parametrize('tar_format', ['gnu', 'posix', 'ustar', 'oldgnu'])
def test_header_parser_agrees_with_tarfile_on_gnu_tar_archives(tmp_path, tar_format):
    source = tmp_path / 'src' / 'volumes' / 'w'
    deep = source / ('d' * 60) / ('e' * 60)
    deep.mkdir(parents=True)
    (deep / 'file.txt').write_bytes(b'deep')
    (source / 'plain.txt').write_bytes(b'plain' * 300)
    os.symlink('plain.txt', str(source / 'link'))
    archive = tmp_path / 'gnu.tar'
    names = ['volumes'] if tar_format != 'ustar' else ['volumes/w/plain.txt', 'volumes/w/link']
    subprocess.check_call(['tar', '--format=%s' % tar_format, '-cf', str(archive), '-C', str(tmp_path / 'src')] + names)
    payload = archive.read_bytes()
    expected = [summary(info) for info in tarfile.open(str(archive)).getmembers()]
    found, end = headers_of(payload)
    assert [summary(info) for info in found] == expected
    assert end == 'marker'


def verify_bounded(path, **kwargs):
    kwargs.setdefault('require_manifest', False)
    outcome = run_bounded(lambda: verify_archive(path, **kwargs))
    assert outcome[0] == 'ok', outcome
    return outcome[1]


def extract_bounded(path, targets, **kwargs):
    def run():
        try:
            return extract_archive(path, targets, **kwargs)
        except BackupExtractError as exc:
            return 'refused: %s' % exc
    outcome = run_bounded(run)
    assert outcome[0] == 'ok', outcome
    return outcome[1]


@pytest.mark.parametrize('size_field', [b'-0000001000\0', b'\xff' * 12], ids=['octal-with-sign', 'base-256'])
def test_a_negative_member_size_is_refused_not_looped_on(tmp_path, size_field):
    payload = header_block('volumes/workspace/a', size_field=size_field) + padded(b'x' * 100) + end_marker()
    path = compress(str(tmp_path / name_for()), payload)
    report = verify_bounded(path)
    assert check(report, 'readable')['reason'].startswith('tar data is corrupt: negative size in the header at byte 0 of the tar stream')
    result = extract_bounded(path, {'workspace': str(tmp_path / 'restore')})
    assert result.startswith('refused: cannot read the archive: tar data is corrupt: negative size')
    assert not (tmp_path / 'restore').exists()


def test_a_negative_size_in_a_pax_record_is_refused(tmp_path):
    record = b'16 size=-100000\n'
    payload = (header_block('pax', size=len(record), kind=tarfile.XHDTYPE) + padded(record)
               + header_block('volumes/workspace/a', size=3) + padded(b'abc') + end_marker())
    path = compress(str(tmp_path / name_for()), payload)
    reason = check(verify_bounded(path), 'readable')['reason']
    assert reason.startswith('tar data is corrupt: negative size in a pax record at byte 0 of the tar stream'), reason


def test_the_feed_never_moves_backwards():
    feed = _backup_tar._TarFeed(iter([b'x' * 1024, b'']).__next__)
    with pytest.raises(ValueError):
        feed.consume(-1)
    with pytest.raises(ValueError):
        feed.read(-1)
    assert feed.tell() == 0


@pytest.mark.parametrize('kind', [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME], ids=['pax', 'gnu-long-name'])
def test_a_special_header_over_1_mib_is_refused(tmp_path, kind):
    size = (1 << 20) + 1
    payload = (header_block('././@LongLink', size=size, kind=kind) + padded(b'\0' * size)
               + header_block('volumes/workspace/a', size=1) + padded(b'a') + end_marker())
    path = compress(str(tmp_path / name_for()), payload)
    reason = check(verify_bounded(path), 'readable')['reason']
    assert reason.startswith('tar data is corrupt: a special header of 1048577 bytes at byte 0 of the tar stream (at most 1048576 are read)'), reason


def test_a_huge_declared_special_header_costs_no_memory(tmp_path):
    """1 GiB declared, 64 MiB there: refused from the header alone, within a small memory bound."""
    size = 64 << 20
    head = header_block('././@PaxHeader', size=1 << 30, kind=tarfile.XHDTYPE)
    path = str(tmp_path / name_for())
    with open(path, 'wb') as handle:
        compressor = zstandard.ZstdCompressor(write_checksum=True).compressobj()
        handle.write(compressor.compress(head))
        for _mib in range(size >> 20):
            handle.write(compressor.compress(b'\0' * (1 << 20)))
        handle.write(compressor.flush())
    outcome = run_bounded(lambda: verify_archive(path, require_manifest=False, threads=False), extra_memory=48 << 20)
    assert outcome[0] == 'ok', outcome
    assert 'a special header of 1073741824 bytes' in check(outcome[1], 'readable')['reason']


def test_names_with_non_utf8_bytes_are_escaped_in_reasons(tmp_path):
    payload = (header_block('x', size=1, name_bytes=b'volumes/workspace/\xff\xfe/../evil') + padded(b'a')
               + header_block('volumes/workspace/ok', size=1) + padded(b'a') + end_marker())
    path = compress(str(tmp_path / name_for()), payload)
    report = verify_bounded(path)
    assert check(report, 'safety')['reason'] == "member volumes/workspace/\\xff\\xfe/../evil: '..' in its path"
    assert report['unsafe_members'][0]['name'] == 'volumes/workspace/\\xff\\xfe/../evil'
    json.dumps(report, ensure_ascii=False).encode('utf-8')  # what Ansible needs of a result: no lone surrogate
    result = extract_bounded(path, {'workspace': str(tmp_path / 'restore')})
    assert result == "refused: the archive has unsafe members: member volumes/workspace/\\xff\\xfe/../evil: '..' in its path; nothing was written"
