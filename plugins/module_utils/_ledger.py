# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The run ledger: a JSONL file on the controller, one redacted record per line.

Used by the run_ledger and run_ledger_info modules (delegated to localhost) and by the ledger
callback plugin. Appends take an exclusive flock on the file and fsync it; the file is created
0600 in a parent folder created 0700. Every record is redacted before it is written: values of
keys that look secret become ``***`` and every known secret value is masked wherever it appears.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import fcntl
import json
import os
import re

from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time
from ansible_collections.clawd.ops.plugins.module_utils._transport import MASK, redact

LEDGER_VERSION = 1
ENV_PATH = 'CLAWD_LEDGER_PATH'
DEFAULT_PATH = '~/.local/state/clawd-ops/ledger.jsonl'
# Words that make a key secret when they are one of its parts (api_token, X-Auth, db.password...).
SECRET_WORDS = ('token', 'secret', 'password', 'passwd', 'passphrase', 'key', 'apikey', 'auth',
                'authorization', 'credential', 'credentials', 'cookie', 'privatekey')
SECRET_SUFFIXES = ('token', 'secret', 'password', 'passwd', 'apikey')
_KEY_PARTS = re.compile(r'[^a-z0-9]+')
FILTERS = ('kind', 'host', 'result', 'commit', 'version', 'app', 'run_id')


class LedgerError(Exception):
    """Reading or writing the ledger failed; the message says what and why."""


def default_path(environ=None):
    """The ledger path: $CLAWD_LEDGER_PATH, else ~/.local/state/clawd-ops/ledger.jsonl."""
    environ = os.environ if environ is None else environ
    return os.path.expanduser(environ.get(ENV_PATH) or DEFAULT_PATH)


def resolve_path(path=None):
    return os.path.abspath(os.path.expanduser(path)) if path else default_path()


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    """ISO 8601 in UTC with a Z, to the second."""
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def is_secret_key(key):
    """Whether a key's name looks like it holds a secret (token, secret, password, key, auth...)."""
    parts = [part for part in _KEY_PARTS.split(str(key).lower()) if part]
    return any(part in SECRET_WORDS or part.endswith(SECRET_SUFFIXES) for part in parts)


def redact_record(value, secrets=()):
    """A copy of value with secret-looking keys masked and every known secret value masked in strings."""
    secrets = [s for s in secrets if isinstance(s, str) and s]
    if isinstance(value, dict):
        return dict((str(k), MASK if is_secret_key(k) and v not in (None, '') else redact_record(v, secrets))
                    for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [redact_record(item, secrets) for item in value]
    if isinstance(value, str):
        return redact(value, secrets)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value), secrets)


def build_record(record, run_id=None, secrets=(), now=None):
    """The record as it is written: redacted, with ledger_version, recorded_at and run_id."""
    result = redact_record(dict(record or {}), secrets)
    if run_id:
        result['run_id'] = redact(str(run_id), secrets)
    result['ledger_version'] = LEDGER_VERSION
    result['recorded_at'] = iso(now or utc_now())
    return result


def _ensure_parent(path):
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, 0o700)


def append_record(path, record):
    """Append one already built record as a JSON line, under an exclusive lock, fsynced. Returns the path."""
    path = resolve_path(path)
    line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False) + '\n'
    try:
        _ensure_parent(path)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o600)
    except OSError as exc:
        raise LedgerError('Failed to open the ledger %s: %s' % (path, exc.strerror or exc))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        info = os.fstat(fd)
        if info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
        # A writer that died mid-line left no newline: start on a fresh line so this record stays readable.
        if info.st_size and os.pread(fd, 1, info.st_size - 1) != b'\n':
            line = '\n' + line
        data = line.encode('utf-8')
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    except OSError as exc:
        raise LedgerError('Failed to append to the ledger %s: %s' % (path, exc.strerror or exc))
    finally:
        os.close(fd)  # also releases the lock
    return path


def _matches(record, filters, since):
    for name in FILTERS:
        wanted = filters.get(name)
        if wanted is None:
            continue
        value = record.get(name)
        if name == 'host' and value != wanted and wanted in (record.get('hosts') or {}):
            continue
        if value is None or str(value) != str(wanted):
            return False
    if since is not None:
        try:
            if parse_time(record.get('recorded_at'), epoch=True, required=True) < since:
                return False
        except (TypeError, ValueError):
            return False
    return True


def read_records(path=None, last=None, since=None, **filters):
    """Records matching the filters, newest first, and how many lines could not be read.

    filters: kind, host (also matches a playbook record's per-host stats), result, commit,
    version, app, run_id; since: ISO time or epoch (recorded_at at or after it); last: at most N.
    A missing ledger has no records.
    """
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise LedgerError('Unknown ledger filters: %s' % ', '.join(sorted(unknown)))
    path = resolve_path(path)
    since = parse_time(since, epoch=True, required=True) if since not in (None, '') else None
    records, skipped = [], 0
    try:
        handle = open(path, 'rb')
    except FileNotFoundError:
        return [], 0
    except OSError as exc:
        raise LedgerError('Failed to read the ledger %s: %s' % (path, exc.strerror or exc))
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        for raw in handle:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode('utf-8'))
            except ValueError:
                skipped += 1
                continue
            if not isinstance(record, dict):
                skipped += 1
                continue
            if _matches(record, filters, since):
                records.append(record)
    records.reverse()
    if last is not None:
        records = records[:max(int(last), 0)]
    return records, skipped
