#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: app_watch
short_description: Watch a release for a while after a deploy and say whether it breached its limits
version_added: 0.1.0
description:
  - Watches the app for O(duration) seconds, every O(interval) seconds; stops early at the first breach.
  - Each check asks the app's health endpoint O(url) (judged like M(clawd.ops.app_health) does) and reads the new log
    lines of O(containers) through the Docker Engine API, counting the lines that match each pattern of O(patterns).
  - 'A breach is: more lines of a category than its O(thresholds) over the window (or than its O(thresholds_per_minute));
    O(max_health_failures) failed health checks in a row; a watched container that stops, is gone, restarts (its restart
    count grows or it starts again) or that Docker marks unhealthy.'
  - A breach does not fail the task unless O(fail_on_breach=true), so that a role can roll back on RV(breached).
  - Log lines quoted in the results are cut to 200 characters, after every value of O(secrets) is masked.
  - The password of a C(user:password@) in O(url) is a secret too; a redirect of the health endpoint to another origin is
    followed without it.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads (the health endpoint and the Docker Engine API); it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  url:
    description: URL of the app's health endpoint. When not set, health is not checked.
    type: str
  containers:
    description: Names of the containers whose logs and states are watched.
    type: list
    elements: str
    default: []
  since:
    description:
      - Count log lines from this time on (ISO 8601, or seconds since the epoch). Defaults to the module's start.
      - Set it to the deploy's end to count what the new release logged while the role was verifying it.
    type: str
  duration:
    description: Seconds to watch. V(0) checks once.
    type: float
    default: 1800
  interval:
    description: Seconds between two checks.
    type: float
    default: 10
  patterns:
    description:
      - Categories of log lines to count, name to Python regular expression.
      - 'Defaults: C(errors) V(\\b(ERROR|CRITICAL|FATAL\)\\b|Traceback), C(unauthorized) V((?i\)unauthori[sz]ed|\\b401\\b|forbidden),
        C(rate_limit) V((?i\)rate.?limit|\\b429\\b|too many requests).'
    type: dict
  thresholds:
    description:
      - Most lines of each category allowed over the whole window; one more is a breach. Categories left out are only counted.
      - 'Defaults to C({errors: 10, unauthorized: 20, rate_limit: 20}); give V({}) to judge no count.'
    type: dict
  thresholds_per_minute:
    description:
      - Most lines per minute of each category, averaged over the time watched so far (at least one minute).
    type: dict
    default: {}
  max_health_failures:
    description: Failed health checks in a row that make a breach. V(0) never breaches on health.
    type: int
    default: 3
  fail_on_breach:
    description: Fail the task, with the reason, when the window is breached.
    type: bool
    default: false
  secrets:
    description: Values to mask in the log lines and messages quoted in the results.
    type: list
    elements: str
    default: []
  docker_host:
    description: The Docker Engine API to read containers from, like community.docker's option of that name.
    type: str
    default: unix:///var/run/docker.sock
requirements:
  - requests
  - docker (the Docker SDK for Python), when O(containers) is set
'''

EXAMPLES = r'''
- name: Watch the new release for 30 minutes
  clawd.ops.app_watch:
    url: https://app.example.com/health
    containers: [claudebox-web, telegram-bot]
    duration: 1800
    interval: 15
    thresholds: {errors: 10, unauthorized: 20, rate_limit: 20}
    secrets: ["{{ vault_telegram_bot_token }}"]
  register: deploy_watch

- name: Roll back when the release breached its limits
  ansible.builtin.include_role:
    name: clawd.ops.rollback
  when: deploy_watch.breached
'''

RETURN = r'''
breached:
  description: Whether the release breached a limit.
  returned: always
  type: bool
  sample: true
reason:
  description: One sentence saying what breached, or null.
  returned: always
  type: str
  sample: "errors: 57 lines in 20 s (threshold 10) in lab1-claudebox-web; last: 2026-03-02T10:15:20Z ERROR upstream request failed"
breach_at:
  description: When the breach was seen (UTC, ISO 8601), or null.
  returned: always
  type: str
  sample: "2026-03-02T10:15:20Z"
elapsed:
  description: Seconds watched.
  returned: always
  type: float
  sample: 20.1
samples:
  description: One entry per check, with its time, the health verdict and the new lines per category.
  returned: always
  type: list
  elements: dict
  sample: [{"time": "2026-03-02T10:15:00Z", "elapsed": 0.0, "health": "ok", "counts": {"errors": 3, "unauthorized": 0, "rate_limit": 0}}]
counts:
  description: Lines per category over the window.
  returned: always
  type: dict
  sample: {"errors": 57, "unauthorized": 0, "rate_limit": 2}
counts_by_container:
  description: Lines per category of each container.
  returned: always
  type: dict
  sample: {"lab1-claudebox-web": {"errors": 57, "unauthorized": 0, "rate_limit": 2}}
last_lines:
  description: The last line of each category seen, with its container, redacted and cut.
  returned: always
  type: dict
  sample: {"errors": "lab1-claudebox-web: 2026-03-02T10:15:20Z ERROR upstream request failed"}
health_failures:
  description: Failed health checks over the window.
  returned: always
  type: int
  sample: 0
'''

import datetime
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._app_health import evaluate_health, url_password
from ansible_collections.clawd.ops.plugins.module_utils._app_watch import Watch, WatchConfigError
from ansible_collections.clawd.ops.plugins.module_utils._containers import DockerSource
from ansible_collections.clawd.ops.plugins.module_utils._docker import (
    DOCKER_ERRORS, DOCKER_IMPORT_ERROR, DOCKER_NOT_FOUND, HAS_DOCKER, api_client, docker_host_option,
)
from ansible_collections.clawd.ops.plugins.module_utils._time import iso
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time
from ansible_collections.clawd.ops.plugins.module_utils._transport import (
    Transport,
    TransportError,
    fail_with,
    require_requests,
    transport_argument_spec,
    transport_options,
)


#: The test seam: tests replace it with a fake engine.
make_docker_api = api_client


def check_health(transport, url):
    """(healthy, status, problem) of one health check."""
    try:
        answer = transport.request('GET', url, expected=(200, 500, 502, 503, 504))
    except TransportError as exc:
        return False, 'unreachable', 'unreachable: %s' % exc
    try:
        body = answer.json()
    except ValueError:
        body = None
    verdict = evaluate_health(answer.status, body)
    return verdict['healthy'], verdict['status'], '; '.join(verdict['failed_checks'])


def watch(params, watcher, source, transport):
    started = time.time()
    samples, reason, breach_at = [], None, None
    while True:
        now = time.time()
        sample = {'time': iso(datetime.datetime.fromtimestamp(now, datetime.timezone.utc)), 'elapsed': round(now - started, 1)}
        if params['url']:
            healthy, status, problem = check_health(transport, params['url'])
            watcher.add_health(healthy, problem, params['url'])
            sample['health'] = status if not healthy else 'ok'
        new = dict((name, 0) for name in watcher.patterns)
        states = {}
        for name in params['containers']:
            for category, count in watcher.add_lines(name, source.new_lines(name, now)).items():
                new[category] += count
            state = source.state(name)
            watcher.add_container(name, state)
            states[name] = 'gone' if state is None else (state['health'] or state['status'])
        sample['counts'] = new
        if states:
            sample['containers'] = states
        samples.append(sample)
        elapsed = time.time() - started
        reason = watcher.breach(elapsed)
        if reason:
            breach_at = iso(datetime.datetime.now(datetime.timezone.utc))
            break
        remaining = params['duration'] - elapsed
        if remaining <= 0:
            break
        time.sleep(min(params['interval'], remaining))
    return samples, reason, breach_at, time.time() - started


def main():
    module = AnsibleModule(
        argument_spec=transport_argument_spec(
            url=dict(type='str'),
            containers=dict(type='list', elements='str', default=[]),
            since=dict(type='str'),
            duration=dict(type='float', default=1800),
            interval=dict(type='float', default=10),
            patterns=dict(type='dict'),
            thresholds=dict(type='dict'),
            thresholds_per_minute=dict(type='dict', default={}),
            max_health_failures=dict(type='int', default=3),
            fail_on_breach=dict(type='bool', default=False),
            secrets=dict(type='list', elements='str', default=[], no_log=True),
            docker_host=docker_host_option(),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['duration'] < 0 or params['interval'] <= 0 or params['max_health_failures'] < 0:
        module.fail_json(msg='duration and max_health_failures must be 0 or more, interval more than 0')
    if not params['url'] and not params['containers']:
        module.fail_json(msg='Nothing to watch: give url, containers or both')
    try:
        watcher = Watch(params['patterns'], params['thresholds'], params['thresholds_per_minute'],
                        params['max_health_failures'], params['secrets'])
        since = parse_time(params['since'], epoch=True, required=True).timestamp() if params['since'] else time.time()
    except (WatchConfigError, ValueError) as exc:
        module.fail_json(msg='Failed to start watching: %s' % exc)
    transport = None
    if params['url']:
        require_requests(module)
        # The password of the URL's user:password@ is a secret: masked in the result and the invocation,
        # redacted from errors, and never sent to another origin (a redirect there is followed without it).
        password = url_password(params['url'])
        if password:
            module.no_log_values.add(password)
        transport = Transport('', retry_statuses=(429,), cross_origin_redirects='strip',
                              secrets=list(params['secrets']) + ([password] if password else []), **transport_options(params))
    source = None
    if params['containers']:
        if not HAS_DOCKER:
            module.fail_json(msg=missing_lib_msg('docker'), exception=DOCKER_IMPORT_ERROR)
        try:
            api = make_docker_api(params['docker_host'])
            source = DockerSource(api, since, not_found=DOCKER_NOT_FOUND)
            for name in params['containers']:
                if source.state(name) is None:
                    module.fail_json(msg='Failed to watch container %s: no such container' % name)
        except DOCKER_ERRORS as exc:
            module.fail_json(msg='Failed to connect to the Docker Engine API at %s: %s' % (params['docker_host'], exc))
    try:
        samples, reason, breach_at, elapsed = watch(params, watcher, source, transport)
    except DOCKER_ERRORS as exc:
        module.fail_json(msg='Failed to read the containers through the Docker Engine API: %s' % exc)
    result = dict(changed=False, breached=reason is not None, reason=reason, breach_at=breach_at, elapsed=round(elapsed, 1),
                  samples=samples, counts=watcher.counts, counts_by_container=watcher.by_container,
                  last_lines=watcher.last_lines(), health_failures=watcher.health_failures)
    if reason and params['fail_on_breach']:
        fail_with(module, msg='The release breached its watch window: %s' % reason, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
