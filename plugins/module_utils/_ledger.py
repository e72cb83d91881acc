# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The run ledger: a JSONL file on the controller, one redacted record per line, and its durable copies.

Used by the run_ledger and run_ledger_info modules (delegated to localhost) and by the ledger
callback plugin. Appends take an exclusive flock on the file and fsync it; the file is created
0600 in a parent folder created 0700. Every record is redacted before it is written: values of
keys that look secret become ``***`` and every known secret value is masked wherever it appears.

The controller's file goes with the controller (an AWX job's container is gone when the job ends):
with an S3 URL (``s3://bucket/prefix``, $CLAWD_LEDGER_S3_URL) every record is also one S3 object,
``<prefix><yyyy>/<mm>/<dd>/<recorded_at>-<kind>-<host>-<digest>.json``, which later runs read back.
``run_by`` says who ran it: AWX's job, template, user and schedule (its ``awx_*``/``tower_*``
variables), else the controller's user.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import fcntl
import hashlib
import json
import os
import re

from ansible_collections.clawd.ops.plugins.module_utils._files import ensure_folder
from ansible_collections.clawd.ops.plugins.module_utils._time import iso, parse_time, utc_now
from ansible_collections.clawd.ops.plugins.module_utils._redact import MASK, redact

LEDGER_VERSION = 1
ENV_PATH = 'CLAWD_LEDGER_PATH'
DEFAULT_PATH = '~/.local/state/clawd-ops/ledger.jsonl'
# Words that make a key secret when they are one of its parts (api_token, X-Auth, db.password...).
SECRET_WORDS = ('token', 'secret', 'password', 'passwd', 'passphrase', 'key', 'apikey', 'auth',
                'authorization', 'credential', 'credentials', 'cookie', 'privatekey')
SECRET_SUFFIXES = ('token', 'secret', 'password', 'passwd', 'apikey')
_KEY_PARTS = re.compile(r'[^a-z0-9]+')
FILTERS = ('kind', 'host', 'result', 'commit', 'version', 'app', 'run_id')
S3_ENV = 'CLAWD_LEDGER_S3_URL'
RUN_BY_ENV = 'CLAWD_RUN_BY'
# What AWX (and Tower, as tower_*) tells a job about itself, as extra vars; kept in run_by['awx'].
# The user's e-mail and names are left out: a person's details are not a run's record.
AWX_FIELDS = ('job_id', 'job_template_id', 'job_template_name', 'job_launch_type', 'user_id', 'user_name',
              'schedule_id', 'schedule_name', 'workflow_job_id', 'workflow_job_name', 'project_revision',
              'inventory_name', 'execution_node')
_KEY_SAFE = re.compile(r'[^A-Za-z0-9_.-]+')


class LedgerError(Exception):
    """Reading or writing the ledger failed; the message says what and why."""


def default_path(environ=None):
    """The ledger path: $CLAWD_LEDGER_PATH, else ~/.local/state/clawd-ops/ledger.jsonl."""
    environ = os.environ if environ is None else environ
    return os.path.expanduser(environ.get(ENV_PATH) or DEFAULT_PATH)


def resolve_path(path=None):
    return os.path.abspath(os.path.expanduser(path)) if path else default_path()


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


def append_record(path, record):
    """Append one already built record as a JSON line, under an exclusive lock, fsynced. Returns the path."""
    path = resolve_path(path)
    line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False) + '\n'
    try:
        ensure_folder(os.path.dirname(path), 0o700)  # runs for several hosts may create it at the same moment
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


def _select(raws, filters, since):
    """The records (JSON objects, one per raw bytes) that match the filters, in order, and how many were unreadable."""
    records, skipped = [], 0
    for raw in raws:
        try:
            record = json.loads(raw.decode('utf-8'))
        except ValueError:
            record = None
        if not isinstance(record, dict):
            skipped += 1
        elif _matches(record, filters, since):
            records.append(record)
    return records, skipped


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
        records, skipped = _select((raw for raw in handle if raw.strip()), filters, since)
    records.reverse()
    if last is not None:
        records = records[:max(int(last), 0)]
    return records, skipped


def run_by(variables, user, controller):
    """Who ran this: AWX's job, template, user and schedule when its awx_*/tower_* variables are set, else the user.

    Returns via (awx or controller), user (AWX's launching user; None for a scheduled job), process_user,
    controller, who (one line for people) and, from AWX, awx (the fields of AWX_FIELDS that are set).
    """
    variables = variables or {}
    awx = {}
    for field in AWX_FIELDS:
        for prefix in ('awx_', 'tower_'):
            value = variables.get(prefix + field)
            if value not in (None, ''):
                awx[field] = value if isinstance(value, (int, float, bool)) else str(value)
                break
    if 'job_id' not in awx:
        return {'via': 'controller', 'user': user, 'process_user': user, 'controller': controller,
                'who': '%s@%s' % (user, controller)}
    job = 'AWX job %s' % awx['job_id']
    if awx.get('job_template_name'):
        job += " '%s'" % awx['job_template_name']
    if awx.get('user_name'):
        who = '%s via %s' % (awx['user_name'], job)
    elif awx.get('schedule_name'):
        who = "schedule '%s' via %s" % (awx['schedule_name'], job)
    else:
        who = job
    return {'via': 'awx', 'user': awx.get('user_name'), 'process_user': user, 'controller': controller,
            'who': who, 'awx': awx}


def run_by_from_environment(environ=None):
    """The run_by the ledger callback exported for this run ($CLAWD_RUN_BY), or None."""
    environ = os.environ if environ is None else environ
    try:
        value = json.loads(environ.get(RUN_BY_ENV) or 'null')
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def parse_s3_url(url):
    """(bucket, prefix) of s3://bucket[/prefix]; the prefix, when there is one, ends with a slash."""
    match = re.match(r'^s3://([^/]+)/?(.*)$', str(url or ''))
    if not match:
        raise LedgerError('The ledger S3 URL must look like s3://bucket or s3://bucket/prefix, got %r' % (url,))
    prefix = match.group(2).strip('/')
    return match.group(1), prefix + '/' if prefix else ''


def s3_key(prefix, record):
    """The object key of a record: by day, then recorded_at, kind and host, and a digest of the record."""
    moment = parse_time(record.get('recorded_at'), required=True).astimezone(datetime.timezone.utc)
    body = json.dumps(record, sort_keys=True, default=str).encode('utf-8')
    names = [_KEY_SAFE.sub('_', str(record.get(name) or '-')).strip('.') or '-' for name in ('kind', 'host')]
    parts = [moment.strftime('%Y%m%dT%H%M%SZ')] + names
    return '%s%s/%s-%s.json' % (prefix, moment.strftime('%Y/%m/%d'), '-'.join(parts), hashlib.sha256(body).hexdigest()[:12])


def s3_client(client=None):
    """A boto3 S3 client from the environment (AWS_* variables, AWS_ENDPOINT_URL), or the one given."""
    if client is not None:
        return client
    try:
        import boto3
    except ImportError:
        raise LedgerError('the ledger S3 copy needs the boto3 Python library')
    return boto3.client('s3')


def describe_s3_error(exc):
    """An S3 client error as 'Code: message', else the exception's text."""
    response = getattr(exc, 'response', None) or {}
    error = response.get('Error') or {}
    if error.get('Code'):
        return '%s: %s' % (error.get('Code'), error.get('Message') or '')
    return str(exc)


def put_s3_record(url, record, client=None):
    """Write one already built record as one S3 object under the URL's prefix. Returns its key."""
    bucket, prefix = parse_s3_url(url)
    key = s3_key(prefix, record)
    body = (json.dumps(record, sort_keys=True, default=str, ensure_ascii=False) + '\n').encode('utf-8')
    try:
        s3_client(client).put_object(Bucket=bucket, Key=key, Body=body, ContentType='application/json')
    except LedgerError:
        raise
    except Exception as exc:  # botocore's errors, without importing botocore here
        raise LedgerError('Failed to write the ledger record to s3://%s/%s: %s' % (bucket, key, describe_s3_error(exc)))
    return key


def read_s3_records(url, last=None, since=None, client=None, **filters):
    """Records under the URL's prefix that match the filters (as read_records), newest first, and the unreadable count."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise LedgerError('Unknown ledger filters: %s' % ', '.join(sorted(unknown)))
    bucket, prefix = parse_s3_url(url)
    since = parse_time(since, epoch=True, required=True) if since not in (None, '') else None
    records, skipped = [], 0
    try:
        client = s3_client(client)
        keys = []
        for page in client.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item['Key'] for item in page.get('Contents') or () if item['Key'].endswith('.json'))
        records, skipped = _select((client.get_object(Bucket=bucket, Key=key)['Body'].read() for key in sorted(keys)), filters, since)
    except LedgerError:
        raise
    except Exception as exc:  # botocore's errors
        raise LedgerError('Failed to read the ledger from s3://%s/%s: %s' % (bucket, prefix, describe_s3_error(exc)))
    records.sort(key=lambda r: str(r.get('recorded_at') or ''), reverse=True)
    if last is not None:
        records = records[:max(int(last), 0)]
    return records, skipped
