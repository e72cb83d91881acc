#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: container_logs_export
short_description: Write the log lines of the last day of app containers to files, secrets masked, as evidence
version_added: 0.1.0
description:
  - Reads the log lines that O(containers) wrote over the last O(since) through the Docker Engine API (no Docker CLI needed)
    and writes them to one file per container, C(<dest>/<container>.log) (mode 0600), each line with Docker's timestamp.
  - Lines that say a request was refused or an upstream API refused our key (the C(unauthorized) and C(unauthorized_upstream)
    kinds of M(clawd.ops.app_log_summary)) are also written to C(<dest>/auth.log), prefixed with the container's name.
  - Every line is masked as M(clawd.ops.app_log_summary) masks its quotes (Telegram tokens in C(/bot<token>/), bearer tokens,
    C(key=...), C(token=...), C(password=...), passwords in URLs, API key shapes, every value of O(secrets)), but kept whole
    up to 4096 bytes.
  - Bounded whatever the log holds; at most O(max_lines) lines per container (the newest) and O(max_bytes) bytes read per
    container. RV(cut) says when a log was cut.
  - A container that does not exist is listed in RV(missing), not an error.
author:
  - clawd.ops team (@clawd-ops)
requirements:
  - docker (the Docker SDK for Python) on the host
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode no file is written; the module says which containers it would export (RV(files) lists the files it would write).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  containers:
    description: Names of the containers whose log lines are exported.
    type: list
    elements: str
    required: true
  dest:
    description: The folder the files are written to, created (mode 0700) when missing.
    type: path
    required: true
  since:
    description:
      - The window, ending now. A duration (V(24h), V(15m), V(90s), V(2d), or a number of seconds) or a start time (ISO 8601).
    type: str
    default: 24h
  max_lines:
    description: At most this many lines are exported per container, the newest of the window.
    type: int
    default: 200000
  max_bytes:
    description: At most this many bytes are read per container.
    type: int
    default: 67108864
  secrets:
    description: Values masked in every line (API keys, tokens, passwords), on top of the shapes masked anyway.
    type: list
    elements: str
    default: []
  docker_host:
    description: The Docker Engine API to read, C(unix://) or C(tcp://). Defaults to the environment variable C(DOCKER_HOST) when it is set.
    type: str
    default: unix:///var/run/docker.sock
notes:
  - Each run writes the files anew (the window ends now), so the module always reports a change outside check mode.
seealso:
  - module: clawd.ops.app_log_summary
  - module: clawd.ops.incident_record
'''

EXAMPLES = r'''
- name: Export the last day of the app containers' logs as evidence, the bot's token masked
  clawd.ops.container_logs_export:
    containers: [claudebox-web, telegram-bot, claude-backup]
    dest: /var/lib/clawd/evidence/INC-20260302-001/logs
    since: 24h
    secrets: ["{{ telegram_bot_token }}"]
  register: evidence_logs
'''

RETURN = r'''
files:
  description: The files written (or that would be written in check mode), the containers' files then C(auth.log).
  returned: success
  type: list
  elements: str
  sample: [/var/lib/clawd/evidence/logs/claudebox-web.log, /var/lib/clawd/evidence/logs/auth.log]
per_container:
  description: Per container found, C(lines) written, C(auth_lines) among them, and C(cut) (why the lines were cut, or null).
  returned: success
  type: dict
  sample: {"claudebox-web": {"found": true, "lines": 1200, "auth_lines": 4, "cut": null}}
lines:
  description: Lines written, all containers.
  returned: success
  type: int
  sample: 1830
auth_lines:
  description: Lines written to C(auth.log).
  returned: success
  type: int
  sample: 4
missing:
  description: Containers that do not exist.
  returned: success
  type: list
  elements: str
  sample: []
cut:
  description: Container -> why its lines were cut.
  returned: success
  type: dict
  sample: {}
since:
  description: Start of the window (UTC, ISO 8601).
  returned: success
  type: str
  sample: "2026-03-01T10:15:00Z"
until:
  description: End of the window (UTC, ISO 8601).
  returned: success
  type: str
  sample: "2026-03-02T10:15:00Z"
'''

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._docker import DOCKER_ERRORS, DOCKER_IMPORT_ERROR, DOCKER_NOT_FOUND, HAS_DOCKER, api_client
from ansible_collections.clawd.ops.plugins.module_utils._log_export import export_container
from ansible_collections.clawd.ops.plugins.module_utils._log_summary import LogConfigError, iso_epoch, log_reader_argument_spec, parse_window
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg


#: The test seam: tests replace it with a fake engine.
make_docker_api = api_client


def _open_temp(dest, name):
    fd, path = tempfile.mkstemp(prefix='.%s.' % name, dir=dest)
    return os.fdopen(fd, 'w', encoding='utf-8'), path


def export(api, params, start, now):
    """Write every container's file and auth.log in dest; each file appears whole (renamed into place) or not at all."""
    dest = params['dest']
    if not os.path.isdir(dest):
        os.makedirs(dest, 0o700)
    auth, auth_tmp = _open_temp(dest, 'auth.log')
    result = {'files': [], 'per_container': {}, 'missing': [], 'cut': {}, 'lines': 0, 'auth_lines': 0}
    with auth:
        for name in params['containers']:
            out, out_tmp = _open_temp(dest, name)
            with out:
                done = export_container(api, name, start, now, out, auth, params['max_lines'], params['max_bytes'],
                                        params['secrets'], DOCKER_NOT_FOUND)
            if not done['found']:
                os.unlink(out_tmp)
                result['missing'].append(name)
                continue
            path = os.path.join(dest, '%s.log' % name)
            os.rename(out_tmp, path)
            result['files'].append(path)
            result['per_container'][name] = done
            result['lines'] += done['lines']
            result['auth_lines'] += done['auth_lines']
            if done['cut']:
                result['cut'][name] = done['cut']
    os.rename(auth_tmp, os.path.join(dest, 'auth.log'))
    result['files'].append(os.path.join(dest, 'auth.log'))
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(log_reader_argument_spec(since='24h', max_lines=200000), dest=dict(type='path', required=True)),
        supports_check_mode=True,
    )
    params = module.params
    if not HAS_DOCKER:
        module.fail_json(msg=missing_lib_msg('docker'), exception=DOCKER_IMPORT_ERROR)
    now = time.time()
    try:
        if params['max_lines'] < 1 or params['max_bytes'] < 1:
            raise LogConfigError('max_lines and max_bytes must be 1 or more')
        start = now - parse_window(params['since'], now)
    except LogConfigError as exc:
        module.fail_json(msg='Failed to export the logs: %s' % exc)
    window = {'since': iso_epoch(start), 'until': iso_epoch(now)}
    if module.check_mode:
        files = [os.path.join(params['dest'], '%s.log' % name) for name in params['containers']]
        module.exit_json(changed=True, files=files + [os.path.join(params['dest'], 'auth.log')], per_container={},
                         missing=[], cut={}, lines=0, auth_lines=0, **window)
    try:
        api = make_docker_api(params['docker_host'])
        result = export(api, params, start, now)
    except DOCKER_ERRORS as exc:
        module.fail_json(msg='Failed to export the logs of %s through the Docker Engine API at %s: %s'
                         % (', '.join(params['containers']), params['docker_host'], exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg='Failed to write the logs of %s to %s: %s' % (', '.join(params['containers']), params['dest'], exc))
    module.exit_json(changed=True, **dict(result, **window))


if __name__ == '__main__':
    main()
