# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: ledger
type: notification
short_description: Record every playbook run in the run ledger
version_added: 0.1.0
description:
  - 'Appends one record per playbook run to the run ledger (a JSONL file on the controller, see M(clawd.ops.run_ledger)):
    C(kind=playbook), the playbook file, a C(run_id), the user and controller host, start, end and duration,
    check mode, tags, skip tags, limit, the names (never the values) of the extra vars, the stats of each host
    (ok, changed, failed, unreachable, skipped, rescued, ignored), the result (V(ok) or V(failed)) and the failed
    tasks (task name, host and the message, truncated to 300 characters and redacted).'
  - Task arguments and extra var values are never recorded. The message of a C(no_log) task is replaced by a notice.
    Values of extra vars whose names look secret (C(token), C(secret), C(password), C(key), C(auth)...) are masked
    in the messages.
  - The C(run_id) is E(CLAWD_RUN_ID) when the environment sets it (a wrapper or AWX can), else a new UUID4 that the
    plugin puts into E(CLAWD_RUN_ID) of the controller process at playbook start, so tasks can read it with
    C(lookup('ansible.builtin.env', 'CLAWD_RUN_ID')) and pass it to M(clawd.ops.run_ledger) and M(clawd.ops.deploy_lock).
  - 'Who ran it: C(run_by) holds AWX''s job id, job template, launching user and schedule when the run comes from AWX
    or Tower (the C(awx_*) and C(tower_*) extra vars they set: C(awx_job_id), C(awx_job_template_name), C(awx_user_name),
    C(awx_schedule_name)...), else the controller user; C(who) says it in one line. The plugin exports it as JSON in
    E(CLAWD_RUN_BY) at play start, and M(clawd.ops.run_ledger) adds it to the records the roles write.'
  - With O(s3_url), each record is also written as one S3 object (see M(clawd.ops.run_ledger)), so the ledger
    outlives the controller (an AWX job's container is gone when the job ends).
  - Writing the ledger never breaks a run; a failure is shown as a warning.
  - Enable it with C(callbacks_enabled = clawd.ops.ledger) in C(ansible.cfg) or E(ANSIBLE_CALLBACKS_ENABLED).
author:
  - clawd.ops team (@clawd-ops)
options:
  path:
    description:
      - The ledger file. Defaults to C(~/.local/state/clawd-ops/ledger.jsonl).
    type: path
    env:
      - name: CLAWD_LEDGER_PATH
    ini:
      - section: callback_ledger
        key: path
  s3_url:
    description:
      - Where the durable copy of each record goes, V(s3://bucket) or V(s3://bucket/prefix); unset, none.
      - boto3 reads the credentials and the endpoint from the usual C(AWS_*) environment variables.
    type: str
    env:
      - name: CLAWD_LEDGER_S3_URL
    ini:
      - section: callback_ledger
        key: s3_url
'''

import getpass
import json
import os
import socket
import time
import uuid

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.clawd.ops.plugins.module_utils._ledger import (
    RUN_BY_ENV,
    append_record,
    build_record,
    is_secret_key,
    iso,
    put_s3_record,
    resolve_path,
    run_by,
    utc_now,
)
from ansible_collections.clawd.ops.plugins.module_utils._redact import redact

MESSAGE_LENGTH = 300
NO_LOG_NOTICE = 'the output has been hidden due to no_log: true'
RUN_ID_ENV = 'CLAWD_RUN_ID'


def _user():
    try:
        return getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        return str(os.getuid())


class CallbackModule(CallbackBase):
    """Append one record per playbook run to the clawd.ops run ledger."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'clawd.ops.ledger'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self.run_id = os.environ.get(RUN_ID_ENV) or str(uuid.uuid4())
        self.started = utc_now()
        self.started_monotonic = time.monotonic()
        self.playbook = None
        self.extra_vars = {}
        self.failed_tasks = []
        self.plays = []

    def _safely(self, what, func, *args):
        try:
            return func(*args)
        except Exception as exc:  # pylint: disable=broad-except
            self._display.warning('clawd.ops.ledger: could not %s (the run goes on): %s' % (what, exc))
            return None

    def _secrets(self):
        return [str(value) for name, value in self.extra_vars.items()
                if is_secret_key(name) and isinstance(value, (str, int, float)) and len(str(value)) >= 4]

    def v2_playbook_on_start(self, playbook):
        def start():
            self.playbook = os.path.abspath(getattr(playbook, '_file_name', None) or '') or None
            os.environ.setdefault(RUN_ID_ENV, self.run_id)
        self._safely('note the playbook start', start)

    def v2_playbook_on_play_start(self, play):
        def play_start():
            self.plays.append(play.get_name())
            manager = play.get_variable_manager()
            if manager is not None:
                self.extra_vars = dict(manager.extra_vars or {})
            os.environ[RUN_BY_ENV] = json.dumps(self._run_by(), sort_keys=True, default=str)
        self._safely('note the play start', play_start)

    def _run_by(self):
        return run_by(self.extra_vars, _user(), socket.gethostname())

    def _note_failure(self, result, unreachable=False):
        task = result._task
        payload = result._result if isinstance(result._result, dict) else {}
        if payload.get('_ansible_no_log') or getattr(task, 'no_log', False):
            message = NO_LOG_NOTICE
        else:
            message = payload.get('msg') or payload.get('stderr') or payload.get('reason') or ''
            message = redact(' '.join(str(message).split()), self._secrets())[:MESSAGE_LENGTH]
        self.failed_tasks.append({
            'task': redact(result.task_name or task.get_name(), self._secrets()),
            'host': result._host.get_name(),
            'unreachable': unreachable,
            'msg': message,
        })

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._safely('note a failed task', self._note_failure, result)

    def v2_runner_on_unreachable(self, result):
        self._safely('note an unreachable host', self._note_failure, result, True)

    def _record(self, stats):
        hosts = {}
        for host in sorted(stats.processed):
            summary = stats.summarize(host)
            hosts[host] = {
                'ok': summary.get('ok', 0), 'changed': summary.get('changed', 0),
                'failed': summary.get('failures', 0), 'unreachable': summary.get('unreachable', 0),
                'skipped': summary.get('skipped', 0), 'rescued': summary.get('rescued', 0),
                'ignored': summary.get('ignored', 0),
            }
        failed = any(h['failed'] or h['unreachable'] for h in hosts.values())
        ended = utc_now()
        cli = context.CLIARGS
        by = self._run_by()
        return {
            'kind': 'playbook',
            'playbook': self.playbook,
            'plays': self.plays,
            'user': _user(),
            'controller': socket.gethostname(),
            'who': by['who'],
            'run_by': by,
            'started': iso(self.started),
            'ended': iso(ended),
            'duration': round(time.monotonic() - self.started_monotonic, 3),
            'check_mode': bool(cli.get('check', False)),
            'diff_mode': bool(cli.get('diff', False)),
            'tags': list(cli.get('tags') or ()),
            'skip_tags': list(cli.get('skip_tags') or ()),
            'limit': cli.get('subset'),
            'extra_var_names': sorted(str(name) for name in self.extra_vars),
            'hosts': hosts,
            'result': 'failed' if failed or self.failed_tasks and not hosts else 'ok',
            'failed_tasks': self.failed_tasks,
        }

    def _write(self, stats):
        record = build_record(self._record(stats), run_id=self.run_id, secrets=self._secrets())
        path = resolve_path(self.get_option('path'))
        append_record(path, record)
        self._display.vvv('clawd.ops.ledger: run %s recorded in %s' % (self.run_id, path))
        return record

    def _copy_to_s3(self, record):
        url = self.get_option('s3_url')
        if url and record is not None:
            key = put_s3_record(url, record)
            self._display.vvv('clawd.ops.ledger: run %s copied to %s as %s' % (self.run_id, url, key))

    def v2_playbook_on_stats(self, stats):
        record = self._safely('write the run ledger', self._write, stats)
        if record is None:  # the file could not be written: the S3 copy still can
            record = self._safely('build the ledger record', lambda: build_record(self._record(stats), run_id=self.run_id,
                                                                                  secrets=self._secrets()))
        self._safely('copy the run ledger record to S3', self._copy_to_s3, record)
