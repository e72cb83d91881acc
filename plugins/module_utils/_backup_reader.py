# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading clawd.ops backup archives (docs/backup-format.md): verify one in a single streaming pass
(_backup_pipeline), find the newest in a folder.

Restoring from an archive is _backup_extract's job; the tar parser and the zstd frame walk are
_backup_tar's; memory bounds are stated in _backup_pipeline.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fnmatch
import hashlib
import json
import os
import random
import stat
import time

from ansible_collections.clawd.ops.plugins.module_utils import _backup_format
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    CHUNK_SIZE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_MEMBER,
    SIDE_SUFFIXES,
    checksum_path,
    manifest_path,
    normalize_member_name,
    normalize_sha256,
    parse_age,
    parse_archive_name,
    read_sha256_file,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_pipeline import (
    LISTED,
    MANIFEST_MAX_BYTES,
    _ArchiveReading,
    _ArchiveStream,
    _listing,
    _mb,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_tar import BackupReadError, _printable_tree


SPOT_LISTED = 20    # paths listed in a spot check's report


def _check(name, ok, reason):
    return {'name': name, 'ok': bool(ok), 'reason': reason}


def _duration_text(seconds):
    seconds = int(seconds)
    if seconds < 120:
        return '%ds' % seconds
    if seconds < 7200:
        return '%dm' % (seconds // 60)
    if seconds < 172800:
        return '%dh%02dm' % (seconds // 3600, seconds % 3600 // 60)
    return '%dd%02dh' % (seconds // 86400, seconds % 86400 // 3600)


def _compare_manifest(manifest, reading):
    """Problems between the manifest's files list and what the archive holds."""
    problems = []
    files = manifest.get('files')
    if not isinstance(files, list):
        return ['the manifest has no files list']
    listed = {}
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get('path'), str):
            problems.append('the manifest lists an entry without a path: %r' % (entry,))
            continue
        path = normalize_member_name(entry['path'])
        if path in listed:
            problems.append('%s is listed twice in the manifest' % path)
        listed[path] = entry
    for path, entry in listed.items():
        got = reading.entries.get(path)
        if got is None:
            problems.append('%s is in the manifest but not in the archive' % path)
            continue
        kind = entry.get('type', 'file')
        if kind != got['type']:
            problems.append('%s is a %s in the manifest but a %s in the archive' % (path, kind, got['type']))
            continue
        if kind == 'file':
            if entry.get('size') != got['size']:
                problems.append('%s has %s bytes in the manifest but %d in the archive' % (path, entry.get('size'), got['size']))
            elif str(entry.get('sha256', '')).lower() != got.get('sha256'):
                problems.append('%s has sha256 %s in the manifest but its content has %s' % (path, entry.get('sha256'), got.get('sha256')))
        elif kind == 'symlink' and entry.get('target') != got.get('target'):
            problems.append('%s points to %s in the manifest but to %s in the archive' % (path, entry.get('target'), got.get('target')))
        if entry.get('mode') is not None:
            try:
                mode = int(str(entry['mode']), 8) & 0o7777
            except ValueError:
                problems.append('%s has an invalid mode %r in the manifest' % (path, entry['mode']))
            else:
                if kind != 'symlink' and mode != got['mode']:
                    problems.append('%s has mode %04o in the manifest but %04o in the archive' % (path, mode, got['mode']))
    for path in reading.order:
        if path != MANIFEST_MEMBER and path not in listed:
            problems.append('%s is in the archive but not in the manifest' % path)
    return problems


def _manifest_check(reading, path, require_manifest):
    """(check or None, parsed manifest or None)."""
    if reading.manifest_bytes is None:
        if not require_manifest:
            return None, None
        if reading.read_problem:
            return _check('manifest', False, 'no %s read (the archive could not be read to the end)' % MANIFEST_MEMBER), None
        return _check('manifest', False, 'the archive has no %s member' % MANIFEST_MEMBER), None
    try:
        manifest = json.loads(reading.manifest_bytes.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as exc:
        return _check('manifest', False, '%s is not valid JSON: %s' % (MANIFEST_MEMBER, exc)), None
    if not isinstance(manifest, dict):
        return _check('manifest', False, '%s is not a JSON object' % MANIFEST_MEMBER), None
    problems = []
    if manifest.get('format') != FORMAT:
        problems.append('format is %r, not %r' % (manifest.get('format'), FORMAT))
    if manifest.get('format_version') != FORMAT_VERSION:
        problems.append('format_version %r is not the version this reader knows (%d)' % (manifest.get('format_version'), FORMAT_VERSION))
    if reading.after_manifest is not None:
        problems.append('the manifest is not the last member (%s follows it)' % reading.after_manifest)
    problems.extend(_compare_manifest(manifest, reading))
    beside = manifest_path(path)
    if os.path.exists(beside):
        try:
            with open(beside, 'rb') as handle:
                if handle.read(MANIFEST_MAX_BYTES + 1) != reading.manifest_bytes:
                    problems.append('%s differs from the manifest inside the archive' % os.path.basename(beside))
        except (OSError, IOError) as exc:
            problems.append('cannot read %s: %s' % (os.path.basename(beside), exc))
    if problems:
        return _check('manifest', False, _listing(problems)), manifest
    return _check('manifest', True, 'lists the %d members read, sizes and sha256 match' % (len(reading.order) - 1)), manifest


def _manifest_summary(manifest):
    if manifest is None:
        return None
    keys = ('format_version', 'created_at', 'host', 'service', 'app_version', 'deployment_id', 'compression', 'totals')
    summary = dict((key, manifest.get(key)) for key in keys)
    summary['sources'] = [source.get('name') for source in manifest.get('sources') or [] if isinstance(source, dict)]
    summary['dumps'] = [dump.get('name') for dump in manifest.get('dumps') or [] if isinstance(dump, dict)]
    return summary


def _expected_members_check(expected, reading):
    names = set(reading.entries)
    missing = []
    for wanted in expected:
        if wanted.endswith('/'):
            prefix = normalize_member_name(wanted)
            found = prefix in names or any(name.startswith(prefix + '/') for name in names)
        else:
            found = normalize_member_name(wanted) in names
        if not found:
            missing.append(wanted)
    if missing:
        return _check('expected_members', False, 'missing from the archive: %s' % ', '.join(missing))
    return _check('expected_members', True, 'all %d present' % len(expected))


def _file_sha256(path, chunk_size=CHUNK_SIZE):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        while True:
            data = handle.read(chunk_size)
            if not data:
                return digest.hexdigest()
            digest.update(data)


def spot_check_files(manifest, sources, count, seed_hex):
    """Compare count files of the manifest, picked at random seeded by seed_hex, with the live files.

    sources maps a source name to its live folder; only files of those sources are picked.
    Returns sampled, same, different, missing and the paths that differ or are missing.
    """
    candidates = []
    for entry in manifest.get('files') or []:
        if not isinstance(entry, dict) or entry.get('type', 'file') != 'file':
            continue
        parts = normalize_member_name(str(entry.get('path', ''))).split('/', 2)
        if len(parts) == 3 and parts[0] == 'volumes' and parts[1] in sources:
            candidates.append((parts[1], parts[2], entry))
    candidates.sort(key=lambda item: (item[0], item[1]))
    picked = random.Random(int(seed_hex or '0', 16)).sample(candidates, min(count, len(candidates)))
    result = {'sampled': len(picked), 'same': 0, 'different': 0, 'missing': 0, 'different_paths': [], 'missing_paths': []}
    for source, relative, entry in sorted(picked, key=lambda item: (item[0], item[1])):
        live = os.path.join(sources[source], relative)
        label = 'volumes/%s/%s' % (source, relative)
        try:
            info = os.lstat(live)
            same = stat.S_ISREG(info.st_mode) and info.st_size == entry.get('size') and _file_sha256(live) == entry.get('sha256')
        except (OSError, IOError):  # gone, or unreadable: nothing to compare with
            result['missing'] += 1
            if len(result['missing_paths']) < SPOT_LISTED:
                result['missing_paths'].append(label)
            continue
        if same:
            result['same'] += 1
        else:
            result['different'] += 1
            if len(result['different_paths']) < SPOT_LISTED:
                result['different_paths'].append(label)
    return result


def _spot_check(spot, manifest, seed_hex):
    fail = bool(spot.get('fail_on_difference'))
    if manifest is None:
        return _check('spot_check', not fail, 'no manifest to pick files from'), None
    result = spot_check_files(manifest, spot.get('sources') or {}, int(spot.get('count') or 0), seed_hex)
    reason = '%(sampled)d files sampled: %(same)d same as the live files, %(different)d different, %(missing)d missing' % result
    if result['different_paths'] or result['missing_paths']:
        reason += ' (%s)' % ', '.join(result['different_paths'][:LISTED] + result['missing_paths'][:LISTED])
    return _check('spot_check', not (fail and (result['different'] or result['missing'])), reason), result


def _sha256_check(path, actual, expected_sha256, require_checksum):
    if expected_sha256:
        try:
            expected = normalize_sha256(expected_sha256)
        except ValueError as exc:
            return _check('sha256', False, str(exc))
        source = 'given'
    else:
        beside = checksum_path(path)
        if not os.path.exists(beside):
            if require_checksum:
                return _check('sha256', False, 'no checksum given and %s does not exist' % os.path.basename(beside))
            return None
        try:
            expected = read_sha256_file(beside)
        except (OSError, IOError, ValueError) as exc:
            return _check('sha256', False, 'cannot read %s: %s' % (os.path.basename(beside), exc))
        source = os.path.basename(beside)
    if actual != expected:
        return _check('sha256', False, 'expected %s, file has %s' % (expected, actual))
    return _check('sha256', True, 'matches the %s checksum' % source if source == 'given' else 'matches %s' % source)


def _new_report(path):
    return {
        'archive': path, 'ok': False, 'checks': [], 'members': 0, 'bytes': 0, 'archive_bytes': 0,
        'duration': 0.0, 'throughput_mb_s': {'archive': 0.0, 'uncompressed': 0.0}, 'sha256': None,
        's3_etag': None, 'compression': None, 'manifest': None, 'unsafe_members': [], 'created': None,
        'age_seconds': None, 'spot_check': None,
    }


def verify_archive(path, expected_sha256=None, require_manifest=True, expected_members=(), spot_check=None,
                   s3_etag_part_size=0, chunk_size=CHUNK_SIZE, max_age=None, min_size=None, require_checksum=False,
                   threads=None, now=None, allow_empty=False):
    """Verify a backup archive in one pass over the file; never raises for a bad archive.

    Checks run: exists; age (max_age, e.g. 25h, against the time in the archive's name, else its
    mtime); size (min_size bytes); readable (every member read to the end, the compressed stream
    complete); safety (unsafe members); content (only when it fails: the archive holds no file,
    folder or symlink beside its manifest and ./ folder, and allow_empty is false); manifest (present unless require_manifest is false, and
    matching every member's type, size, sha256 and mode); expected_members (paths, or prefixes
    ending in /); sha256 (against expected_sha256, else <archive>.sha256 when it exists, which
    require_checksum makes mandatory); spot_check ({'count': N, 'sources': {name: live folder},
    'fail_on_difference': False}).
    Returns a report: checks (name, ok, reason), ok, members, bytes (uncompressed member data),
    archive_bytes, duration, throughput_mb_s, sha256, s3_etag (with s3_etag_part_size), compression,
    manifest (a summary), unsafe_members, created, age_seconds and spot_check.
    Raises MissingLibraryError for a zstd archive without the zstandard library, ValueError for
    a bad max_age.
    """
    started = time.monotonic()
    report = _new_report(path)
    checks = report['checks']
    max_age_seconds = parse_age(max_age) if max_age not in (None, '') else None
    try:
        info = os.stat(path)
    except OSError as exc:
        missing = exc.errno == errno.ENOENT
        checks.append(_check('exists', False, '%s %s (%s)' % (path, 'does not exist' if missing else 'cannot be read', exc.strerror)))
        report['duration'] = round(time.monotonic() - started, 3)
        return report
    if not stat.S_ISREG(info.st_mode):
        checks.append(_check('exists', False, '%s is not a regular file' % path))
        report['duration'] = round(time.monotonic() - started, 3)
        return report
    checks.append(_check('exists', True, '%s exists' % path))
    report['archive_bytes'] = info.st_size
    named = parse_archive_name(path)
    if named:
        report['created'] = named['created']
    if max_age_seconds is not None:
        made = named['timestamp'] if named else info.st_mtime
        age = (time.time() if now is None else now) - made
        report['age_seconds'] = round(age, 1)
        limit = max_age if isinstance(max_age, str) else '%ss' % max_age
        if age > max_age_seconds:
            checks.append(_check('age', False, 'made %s ago, more than %s' % (_duration_text(age), limit)))
        else:
            checks.append(_check('age', True, 'made %s ago (at most %s)' % (_duration_text(max(age, 0)), limit)))
    if min_size is not None:
        if info.st_size < min_size:
            checks.append(_check('size', False, '%d bytes, less than the minimum %d' % (info.st_size, min_size)))
        else:
            checks.append(_check('size', True, '%d bytes' % info.st_size))

    pass_started = time.monotonic()
    try:
        stream = _ArchiveStream(path, chunk_size=chunk_size, threads=threads, etag_part_size=s3_etag_part_size)
    except (OSError, IOError) as exc:
        checks.append(_check('readable', False, 'cannot open %s: %s' % (path, exc)))
        report['duration'] = round(time.monotonic() - started, 3)
        return report
    with stream:
        report['compression'] = stream.compression
        reading = _ArchiveReading(stream)
        reading.run()
    pass_seconds = max(time.monotonic() - pass_started, 1e-9)

    report['sha256'] = stream.hash.sha256.hexdigest()
    report['s3_etag'] = stream.hash.s3_etag()
    report['members'] = reading.members
    report['bytes'] = reading.bytes
    report['unsafe_members'] = reading.unsafe
    report['throughput_mb_s'] = {
        'archive': round(stream.hash.size / 1e6 / pass_seconds, 1),
        'uncompressed': round(reading.bytes / 1e6 / pass_seconds, 1),
    }
    read_problem = reading.read_problem or reading.whole_file_problem
    if read_problem:
        checks.append(_check('readable', False, read_problem))
    else:
        checks.append(_check('readable', True, '%d members read to the end (%s of data)' % (reading.members, _mb(reading.bytes))))
    if reading.unsafe:
        checks.append(_check('safety', False, _listing([item['problem'] for item in reading.unsafe])))
    else:
        checks.append(_check('safety', True, 'no unsafe member'))
    if not read_problem and not allow_empty and not reading.content:  # a check of its own only when it fails
        checks.append(_check('content', False, 'the archive holds no file, folder or symlink (allow_empty accepts that)'))
    manifest_check, manifest = _manifest_check(reading, path, require_manifest)
    if manifest_check is not None:
        checks.append(manifest_check)
    report['manifest'] = _manifest_summary(manifest)
    if expected_members:
        checks.append(_expected_members_check(list(expected_members), reading))
    sha_check = _sha256_check(path, report['sha256'], expected_sha256, require_checksum)
    if sha_check is not None:
        checks.append(sha_check)
    if spot_check and int(spot_check.get('count') or 0) > 0:
        spot, report['spot_check'] = _spot_check(spot_check, manifest, report['sha256'])
        checks.append(spot)
    report['ok'] = all(check['ok'] for check in checks)
    report['duration'] = round(time.monotonic() - started, 3)
    return _printable_tree(report)


def failure_summary(report):
    """'name: reason; name: reason' for the checks that failed."""
    return '; '.join('%s: %s' % (check['name'], check['reason']) for check in report['checks'] if not check['ok'])


def find_newest(folder, pattern='*.tar.*'):
    """The newest archive in folder matching pattern (by the time in its name, else its mtime),
    ignoring .partial, .sha256 and .manifest.json files; None when there is none.

    An archive whose commit was cut short (its side files still under .partial names beside it,
    finished by the next backup run) is not chosen. An archive removed while looking is left out;
    a folder that cannot be listed or an archive that cannot be read raises BackupReadError.
    """
    best = None
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise BackupReadError('cannot list the folder %s: %s' % (folder, exc.strerror or exc))
    present = set(names)
    for name in names:
        if not fnmatch.fnmatch(name, pattern) or name.endswith(SIDE_SUFFIXES):
            continue
        if _backup_format.partial_path(_backup_format.checksum_path(name)) in present:
            continue  # renamed, its .sha256 not yet: not committed
        full = os.path.join(folder, name)
        try:
            info = os.stat(full)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                continue  # removed since the folder was listed
            raise BackupReadError('cannot read %s: %s' % (full, exc.strerror or exc))
        if not stat.S_ISREG(info.st_mode):
            continue
        named = parse_archive_name(name)
        key = (named['timestamp'] if named else info.st_mtime, info.st_mtime, name)
        if best is None or key > best[0]:
            best = (key, full)
    return best[1] if best else None
