#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: app_log_summary
short_description: Sort the log lines of the last hour of app containers into error kinds, with counts and a rate
version_added: 0.1.0
description:
  - Reads the log lines that O(containers) wrote over the last O(since) through the Docker Engine API and sorts each line
    into one kind, the first that matches, in this order; the extra O(patterns) come first.
  - "C(oom_killed) (the kernel's OOM killer, Docker's C(OOMKilled), a runtime's out-of-memory error);
    C(unauthorized_upstream) (an upstream API refused our key or token, for example C(getMe failed: HTTP 401 Unauthorized),
    C(invalid api key)); C(rate_limit) (C(rate limit), C(429), C(too many requests)); C(unauthorized) (a request that was
    refused to a caller, a C(401) or C(forbidden) that is not upstream, like the sample app's C(unauthorized request rejected));
    C(exception) (a traceback, C(SomeError: ...)); C(error) (C(ERROR), C(CRITICAL), C(FATAL)). The C(rate_limit),
    C(unauthorized) and C(error) patterns are the categories that M(clawd.ops.app_watch) and M(clawd.ops.host_checks) count."
  - A container is OOM killed when Docker's state says C(OOMKilled) or one of its lines in the window is an OOM kill.
  - Bounded whatever the log holds; at most O(max_lines) lines per container (the newest), at most O(max_bytes) bytes read
    per container, each line cut to 4096 bytes before it is judged. RV(truncated) and RV(cut) say when a log was cut; its
    rate is then taken over the time the lines read cover.
  - Quoted lines are masked (Telegram tokens in C(/bot<token>/), bearer tokens, C(key=...), C(token=...),
    C(password=...), passwords in URLs, every value of O(secrets)) and cut to 200 characters.
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
    details: The module only reads the Docker Engine API; it runs the same in check mode and never reports a change.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  containers:
    description: Names of the containers whose log lines are read.
    type: list
    elements: str
    required: true
  since:
    description:
      - The window, ending now. A duration (V(1h), V(15m), V(90s), V(2d), or a number of seconds) or a start time (ISO 8601).
    type: str
    default: 1h
  max_lines:
    description: At most this many lines are read per container, the newest of the window.
    type: int
    default: 20000
  max_bytes:
    description: At most this many bytes are read per container.
    type: int
    default: 67108864
  patterns:
    description:
      - Extra kinds, each a C(kind) name and a Python C(regex), judged in order before the built-in kinds.
    type: list
    elements: dict
    default: []
  secrets:
    description: Values masked in every quoted line (API keys, tokens), on top of the shapes masked anyway.
    type: list
    elements: str
    default: []
  docker_host:
    description: The Docker Engine API to read, C(unix://) or C(tcp://). Defaults to the environment variable C(DOCKER_HOST) when it is set.
    type: str
    default: unix:///var/run/docker.sock
notes:
  - The kinds are meant to tell causes apart; RV(error_lines) counts every line of any kind, RV(counts) each kind.
seealso:
  - module: clawd.ops.app_watch
  - module: clawd.ops.host_checks
'''

EXAMPLES = r'''
- name: Classify the log lines of the last hour of the app containers
  clawd.ops.app_log_summary:
    containers: [claudebox-web, telegram-bot]
    since: 1h
  register: incident_log_summary

- name: Stop and point at credential rotation when an upstream API refuses our key
  ansible.builtin.fail:
    msg: "An upstream API rejects our key ({{ incident_log_summary.kinds | selectattr('kind', 'eq', 'unauthorized_upstream')
      | map(attribute='example') | first }}): rotate the credential (rotate_credentials.yml)."
  when: incident_log_summary.upstream_key_rejected

- name: Count a known message as its own kind, masking the app's API key in quotes
  clawd.ops.app_log_summary:
    containers: [claudebox-web]
    since: 15m
    patterns:
      - kind: db_locked
        regex: 'database is locked'
    secrets: ["{{ app_api_key }}"]
'''

RETURN = r'''
total_lines:
  description: Lines read in the window, all containers.
  returned: success
  type: int
  sample: 1830
error_lines:
  description: Lines of any kind (see RV(kinds)).
  returned: success
  type: int
  sample: 64
rate_per_min:
  description:
    - Lines of any kind per minute, the sum of each container's rate. A container's rate is taken over the part of the window
      since it was created (a release deployed ten minutes ago has ten minutes of lines), or since its oldest line read
      when its lines were cut, and over at least a minute.
  returned: success
  type: float
  sample: 1.07
kinds:
  description: One entry per kind seen, by count (highest first); C(example) is the newest line of the kind, masked and cut.
  returned: success
  type: list
  elements: dict
  sample: [{"kind": "error", "count": 60, "container": "claudebox-web", "example": "ERROR upstream request failed: simulated error"},
           {"kind": "unauthorized_upstream", "count": 4, "container": "telegram-bot",
            "example": "ERROR getMe failed: HTTP 401 Unauthorized"}]
counts:
  description: Lines per kind.
  returned: success
  type: dict
  sample: {"error": 60, "unauthorized_upstream": 4}
oom_killed:
  description: Containers that Docker says were OOM killed, or that logged an OOM kill in the window.
  returned: success
  type: list
  elements: str
  sample: [telegram-bot]
upstream_key_rejected:
  description: Whether any line says an upstream API refused our key or token (kind C(unauthorized_upstream)).
  returned: success
  type: bool
  sample: true
per_container:
  description:
    - Per container, C(found), C(status), C(exit_code), C(restart_count), C(started_at), C(oom_killed), C(total_lines),
      C(error_lines), C(rate_per_min), C(covered_seconds), C(kinds) (count per kind) and C(truncated).
  returned: success
  type: dict
  sample: {"claudebox-web": {"found": true, "status": "running", "exit_code": 0, "restart_count": 0, "oom_killed": false,
           "started_at": "2026-03-02T10:00:00Z", "total_lines": 1200, "error_lines": 60, "rate_per_min": 1.0,
           "kinds": {"error": 60}, "truncated": false}}
missing:
  description: Containers that do not exist.
  returned: success
  type: list
  elements: str
  sample: []
truncated:
  description: Whether some container's lines were cut (by O(max_lines) or O(max_bytes)).
  returned: success
  type: bool
  sample: false
cut:
  description: Container -> why its lines were cut.
  returned: success
  type: dict
  sample: {"claudebox-web": "the newest 20000 lines (max_lines) were read; older lines of the window were not"}
unreadable:
  description:
    - Container -> why its log could not be read (to its end), for example a logging driver that cannot be read back; the
      lines read before still count. An engine that cannot be reached at all fails the task.
  returned: success
  type: dict
  sample: {"telegram-bot": "cannot read the log: 501 Server Error: configured logging driver does not support reading"}
window_seconds:
  description: Length of the window in seconds.
  returned: success
  type: float
  sample: 3600.0
covered_seconds:
  description: The longest time a container's rate is taken over (the window, or less for young containers and cut logs).
  returned: success
  type: float
  sample: 3600.0
since:
  description: Start of the window (UTC, ISO 8601).
  returned: success
  type: str
  sample: "2026-03-02T09:15:00Z"
until:
  description: End of the window (UTC, ISO 8601).
  returned: success
  type: str
  sample: "2026-03-02T10:15:00Z"
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._docker import DOCKER_ERRORS, DOCKER_IMPORT_ERROR, DOCKER_NOT_FOUND, HAS_DOCKER, api_client
from ansible_collections.clawd.ops.plugins.module_utils._log_summary import LogConfigError, iso_epoch, log_reader_argument_spec, summarize
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg


#: The test seam: tests replace it with a fake engine.
make_docker_api = api_client


def main():
    module = AnsibleModule(
        argument_spec=dict(log_reader_argument_spec(since='1h'), patterns=dict(type='list', elements='dict', default=[])),
        supports_check_mode=True,
    )
    params = module.params
    if not HAS_DOCKER:
        module.fail_json(msg=missing_lib_msg('docker'), exception=DOCKER_IMPORT_ERROR)
    now = time.time()
    try:
        api = make_docker_api(params['docker_host'])
        result = summarize(api, params['containers'], params['since'], now, params['patterns'], params['max_lines'],
                           params['max_bytes'], params['secrets'], DOCKER_NOT_FOUND, DOCKER_ERRORS)
    except LogConfigError as exc:
        module.fail_json(msg='Failed to summarize the logs: %s' % exc)
    except DOCKER_ERRORS as exc:
        module.fail_json(msg='Failed to read the logs of %s through the Docker Engine API at %s: %s'
                         % (', '.join(params['containers']), params['docker_host'], exc))
    result['since'] = iso_epoch(now - result['window_seconds'])
    result['until'] = iso_epoch(now)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
