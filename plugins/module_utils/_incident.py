# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Incident records kept on the host: ids, the timeline, the evidence bundle and the post-incident note.

An incident lives in a folder on the host (``/var/lib/clawd/incidents`` by default): ``INC-YYYYMMDD-NNN.json``
is its record, ``INC-YYYYMMDD-NNN.md`` its post-incident note once closed, ``INC-YYYYMMDD-NNN/evidence/`` its
evidence bundle (redacted JSON files and a ``SHA256SUMS`` list). Ids are handed out under an exclusive flock on
``.lock`` in that folder; the NNN counter is per day and never repeats, since ``.counter-YYYYMMDD`` keeps the last
one handed out even when records are removed. Every write is atomic (a temporary file renamed into place).

Pure functions (ids, redaction, the note) are unit-tested without a file system; ``IncidentStore`` is the thin I/O.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import contextlib
import fcntl
import hashlib
import json
import os
import re
import time

from ansible_collections.clawd.ops.plugins.module_utils._files import ensure_folder, write_atomically
from ansible_collections.clawd.ops.plugins.module_utils._ledger import redact_record

ID_PATTERN = re.compile(r'^INC-(\d{8})-(\d{3,})$')
RECORD_VERSION = 1
SEVERITIES = ('P0', 'P1', 'P2', 'P3')
OPEN_STATUSES = ('open', 'escalated')
CLOSED_STATUSES = ('resolved',)
STEP_RESULTS = ('ok', 'failed', 'skipped', 'planned', 'info')
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
_EVIDENCE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$')


class IncidentError(Exception):
    """Reading or writing an incident failed; the message says what and why."""


def now():
    """Seconds since the epoch (the one clock of this module; tests freeze it)."""
    return time.time()


def iso(seconds):
    return time.strftime(TIME_FORMAT, time.gmtime(int(seconds)))


def parse_iso(text):
    try:
        return float(calendar.timegm(time.strptime(text, TIME_FORMAT)))
    except (TypeError, ValueError):
        return None


def duration_text(seconds):
    """``1h 6m 40s`` for 4000."""
    seconds = int(max(seconds or 0, 0))
    parts = [(seconds // 86400, 'd'), (seconds % 86400 // 3600, 'h'), (seconds % 3600 // 60, 'm'), (seconds % 60, 's')]
    return ' '.join('%d%s' % (value, unit) for value, unit in parts if value) or '0s'


def day_of(seconds):
    return time.strftime('%Y%m%d', time.gmtime(int(seconds)))


def next_id(day, names, counter=0):
    """The next id of a day: one more than the highest NNN among the names of that day and the counter."""
    highest = int(counter or 0)
    for name in names:
        match = ID_PATTERN.match(os.path.splitext(os.path.basename(name))[0])
        if match and match.group(1) == day:
            highest = max(highest, int(match.group(2)))
    return 'INC-%s-%03d' % (day, highest + 1)


def redact(value, secrets=()):
    """A copy with secret-looking keys and every known secret value masked (as the run ledger does)."""
    return redact_record(value, [s for s in secrets if isinstance(s, str) and len(s) >= 4])


def evidence_sums(files):
    """The SHA256SUMS text (``<sha256>  <name>`` per line, sorted by name) of name -> bytes."""
    return ''.join('%s  %s\n' % (hashlib.sha256(files[name]).hexdigest(), name) for name in sorted(files))


def new_record(incident_id, runbook, host, severity, summary, opened_at, detected_at=None, run_id=None, who=None):
    return {
        'id': incident_id, 'record_version': RECORD_VERSION, 'runbook': runbook, 'host': host, 'severity': severity,
        'status': 'open', 'summary': summary, 'opened_at': iso(opened_at), 'detected_at': iso(detected_at or opened_at),
        'closed_at': None, 'duration_seconds': None, 'recovery_seconds': None, 'root_cause': None, 'resolution': None,
        'escalation': None, 'timeline': [{'at': iso(opened_at), 'step': 'open', 'result': 'info',
                                          'detail': 'Incident detected: %s' % summary}],
        'evidence': None, 'run_ids': [run_id] if run_id else [], 'opened_by': who, 'action_items': [],
    }


def add_step(record, step, at):
    """The record with one more timeline entry (name, why, result, detail) at the given time."""
    result = step.get('result') or 'info'
    if result not in STEP_RESULTS:
        raise IncidentError('step result must be one of %s, got %r' % (', '.join(STEP_RESULTS), result))
    if not step.get('step'):
        raise IncidentError('a step needs a name (step)')
    entry = {'at': iso(at), 'step': str(step['step']), 'result': result}
    for key in ('why', 'detail'):
        if step.get(key):
            entry[key] = str(step[key])
    record = dict(record)
    record['timeline'] = list(record.get('timeline') or []) + [entry]
    return record


def close_record(record, status, at, root_cause=None, resolution=None, escalation=None):
    """The record closed as resolved, or marked escalated (still open for the deploy gate)."""
    if status not in ('resolved', 'escalated'):
        raise IncidentError('status must be resolved or escalated, got %r' % status)
    record = dict(record)
    opened = parse_iso(record.get('opened_at')) or at
    detected = parse_iso(record.get('detected_at')) or opened
    record['status'] = status
    record['root_cause'] = root_cause or record.get('root_cause')
    record['resolution'] = resolution or record.get('resolution')
    if status == 'resolved':
        record['closed_at'] = iso(at)
        record['duration_seconds'] = int(at - opened)
        record['recovery_seconds'] = int(at - detected)
        record = add_step(record, {'step': 'close', 'result': 'ok', 'detail': 'Recovery verified after %s.'
                                   % duration_text(at - detected)}, at)
    else:
        record['escalation'] = dict(escalation or {}, at=iso(at))
        record = add_step(record, {'step': 'escalate', 'result': 'info',
                                   'detail': 'Escalated to %s: %s' % ((escalation or {}).get('level', 'the next level'),
                                                                      (escalation or {}).get('reason', 'no step recovered it'))}, at)
    return record


def _cell(text):
    return str(text if text is not None else '').replace('|', '\\|').replace('\n', ' ')


def render_markdown(record):
    """The post-incident note (the seed's template), pre-filled from the record; action items left for people."""
    lines = [
        '# Post-incident report: %s' % record['id'], '',
        '| | |', '|---|---|',
        '| Incident | %s |' % record['id'],
        '| Severity | %s |' % record.get('severity'),
        '| Host | %s |' % _cell(record.get('host')),
        '| Runbook | %s |' % _cell(record.get('runbook')),
        '| Status | %s |' % record.get('status'),
        '| Detected | %s |' % record.get('detected_at'),
        '| Closed | %s |' % (record.get('closed_at') or 'not yet'),
        '| Duration | %s |' % (duration_text(record['duration_seconds']) if record.get('duration_seconds') is not None else 'ongoing'),
        '| Time to verified recovery | %s |' % (
            duration_text(record['recovery_seconds']) if record.get('recovery_seconds') is not None else 'not recovered'),
        '', '## Summary', '', _cell(record.get('summary')), '',
        '## Timeline (UTC)', '', '| time | step | result | why | detail |', '|---|---|---|---|---|',
    ]
    for entry in record.get('timeline') or []:
        lines.append('| %s | %s | %s | %s | %s |' % (entry.get('at'), _cell(entry.get('step')), entry.get('result'),
                                                     _cell(entry.get('why')), _cell(entry.get('detail'))))
    lines += ['', '## Root cause (as diagnosed)', '', _cell(record.get('root_cause') or 'not diagnosed'), '',
              '## Resolution', '', _cell(record.get('resolution') or 'none yet'), '']
    if record.get('escalation'):
        esc = record['escalation']
        lines += ['## Escalation', '', 'Escalated to %s at %s: %s' % (_cell(esc.get('level')), esc.get('at'), _cell(esc.get('reason'))), '']
    evidence = record.get('evidence') or {}
    lines += ['## Evidence', '']
    if evidence.get('files'):
        lines.append('Saved in `%s` (sha256 in `SHA256SUMS`):' % evidence.get('dir'))
        lines.append('')
        lines += ['- `%s` %s' % (name, digest) for name, digest in sorted(evidence['files'].items())]
    else:
        lines.append('None saved.')
    lines += ['', '## Action items', '', '| action | owner | due |', '|---|---|---|', '| | | |', '',
              '## Lessons learned', '', '(to be written by the people involved)', '']
    return '\n'.join(lines)


class IncidentStore(object):
    """The incident folder of a host."""

    def __init__(self, folder):
        self.folder = os.path.abspath(folder)

    def path(self, incident_id, suffix='.json'):
        if not ID_PATTERN.match(incident_id or ''):
            raise IncidentError('not an incident id: %r (INC-YYYYMMDD-NNN)' % (incident_id,))
        return os.path.join(self.folder, incident_id + suffix)

    def evidence_dir(self, incident_id):
        return os.path.join(self.folder, incident_id, 'evidence')

    def _ensure(self):
        try:
            ensure_folder(self.folder, 0o700)  # another run may create it at the same moment
        except OSError as exc:
            raise IncidentError('Failed to create the incident folder %s: %s' % (self.folder, exc))

    @contextlib.contextmanager
    def locked(self):
        self._ensure()
        handle = open(os.path.join(self.folder, '.lock'), 'a')
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def names(self):
        if not os.path.isdir(self.folder):
            return []
        return sorted(name for name in os.listdir(self.folder) if name.endswith('.json') and ID_PATTERN.match(name[:-5]))

    def read(self, incident_id):
        try:
            with open(self.path(incident_id), encoding='utf-8') as handle:
                return json.load(handle)
        except (IOError, OSError) as exc:
            raise IncidentError('Failed to read incident %s in %s: %s' % (incident_id, self.folder, exc))
        except ValueError as exc:
            raise IncidentError('Failed to read incident %s in %s: not JSON (%s)' % (incident_id, self.folder, exc))

    def incidents(self):
        """Every record in the folder (unreadable ones left out), oldest id first."""
        out = []
        for name in self.names():
            try:
                out.append(self.read(name[:-5]))
            except IncidentError:
                continue
        return out

    def open_incidents(self, runbook=None):
        return [r for r in self.incidents() if r.get('status') in OPEN_STATUSES and (runbook is None or r.get('runbook') == runbook)]

    def write_bytes(self, path, data, mode=0o600):
        write_atomically(path, data, mode, folder_mode=0o700)

    def save(self, record):
        self.write_bytes(self.path(record['id']), (json.dumps(record, indent=2, sort_keys=True) + '\n').encode('utf-8'))
        if record.get('status') not in ('open',):
            self.write_bytes(self.path(record['id'], '.md'), render_markdown(record).encode('utf-8'))

    def _counter_path(self, day):
        return os.path.join(self.folder, '.counter-%s' % day)

    def _counter(self, day):
        """The last number the day's counter file remembers (0 when there is none, or it is unreadable)."""
        try:
            with open(self._counter_path(day), encoding='utf-8') as handle:
                return int(handle.read().strip() or 0)
        except (IOError, OSError, ValueError):
            return 0

    def allocate(self, at):
        """The next id of the day of `at` (call under locked()); the counter file remembers it."""
        day = day_of(at)
        incident_id = next_id(day, self.names(), self._counter(day))
        self.write_bytes(self._counter_path(day), (incident_id.rsplit('-', 1)[1] + '\n').encode('ascii'))
        return incident_id

    def peek(self, at):
        """The id allocate() would hand out now, without writing (check mode)."""
        day = day_of(at)
        return next_id(day, self.names(), self._counter(day))

    def save_evidence(self, record, evidence, secrets=()):
        """Write each evidence item as redacted JSON plus SHA256SUMS; returns the record with its evidence index."""
        files = {}
        for name, value in sorted(evidence.items()):
            if not _EVIDENCE_NAME.match(str(name)):
                raise IncidentError('evidence name %r is not a plain file name' % (name,))
            files['%s.json' % name] = (json.dumps(redact(value, secrets), indent=2, sort_keys=True, default=str) + '\n').encode('utf-8')
        folder = self.evidence_dir(record['id'])
        existing = {}
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.endswith('.json'):
                    with open(os.path.join(folder, name), 'rb') as handle:
                        existing[name] = handle.read()
        existing.update(files)
        for name, data in files.items():
            self.write_bytes(os.path.join(folder, name), data)
        self.write_bytes(os.path.join(folder, 'SHA256SUMS'), evidence_sums(existing).encode('ascii'))
        record = dict(record)
        record['evidence'] = {'dir': folder, 'files': dict((name, hashlib.sha256(data).hexdigest()) for name, data in existing.items())}
        return record
