#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_checks
short_description: Measure a host's containers, disk, memory, CPU, logs and DNS in one call and judge each against thresholds
version_added: 0.1.0
description:
  - The host side of the daily checks, in one module call so that a host costs one round trip.
  - 'Each check of O(checks) gives one result: C(check), C(status) (V(ok), V(warning), V(critical) or V(unknown)), C(value), C(unit),
    C(warning), C(critical), C(reason), C(measured_at) and sometimes C(details). A check that cannot be measured is V(unknown) with the
    reason, never left out.'
  - C(containers) counts the containers of O(containers) that are not running (missing, stopped, restarting, or unhealthy by their Docker health check).
  - C(container_restarts) adds up Docker's restart counts of O(containers) (since each container was created, so a deployment that replaces a
    container starts it again at 0); a container restarting right now is critical.
  - C(disk) is the fullest filesystem of O(disk_paths), in percent used as C(df) shows it. C(memory) is the share of memory in use
    (MemTotal - MemAvailable). C(cpu) is the busy share of all CPUs over O(cpu_sample_seconds).
  - C(logs_errors), C(logs_unauthorized), C(logs_rate_limit) count the lines of the last O(log_hours) hours of O(log_containers) that match the
    C(errors), C(unauthorized) and C(rate_limit) patterns of O(patterns), read through the Docker Engine API.
  - C(error_rate) is the share of the requests in those logs (access lines C(<client> "<METHOD> <path>" <status>)) that were answered with a 5xx
    status; its details hold the number of requests and the status codes.
  - C(dns) resolves O(dns_names) on the host; a name that does not resolve is critical, one that resolves elsewhere than O(dns_expected) a warning.
  - With O(maintenance_path), the host's maintenance marker (written by M(clawd.ops.maintenance_window)) is read in the same call
    (RV(maintenance)), for M(clawd.ops.check_results).
  - With O(backup), the newest archive of O(backup.path) is also verified, with the code of M(clawd.ops.backup_verify), in the same call
    (RV(backup)); it is not judged here (M(clawd.ops.check_results) judges its age).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  checks:
    description: The checks to run.
    type: list
    elements: str
    choices: [containers, container_restarts, disk, memory, cpu, logs_errors, logs_unauthorized, logs_rate_limit, error_rate, dns]
    default: [containers, container_restarts, disk, memory, cpu, logs_errors, logs_unauthorized, logs_rate_limit, error_rate, dns]
  thresholds:
    description:
      - Per check, C(warning) and C(critical) levels (a value at or above a level reaches it), over the defaults
        C(containers) 1/1, C(container_restarts) 1/5, C(disk) 70/80 %, C(memory) 80/95 %, C(cpu) 70/90 %, C(logs_errors) 10/100 lines,
        C(logs_unauthorized) 20/200 lines, C(logs_rate_limit) 5/50 lines, C(error_rate) 1/5 %.
    type: dict
    default: {}
  containers:
    description: Names of the containers that must run.
    type: list
    elements: str
    default: []
  log_containers:
    description: Containers whose logs are read. Defaults to O(containers).
    type: list
    elements: str
  log_hours:
    description: How many hours of logs to read.
    type: float
    default: 24
  patterns:
    description:
      - Categories of log lines, name to Python regular expression; the same as M(clawd.ops.app_watch) uses by default
        (C(errors), C(unauthorized), C(rate_limit)).
    type: dict
  disk_paths:
    description: Paths whose filesystems are measured (the closest existing parent of a path that does not exist).
    type: list
    elements: path
    default: [/]
  cpu_sample_seconds:
    description: Seconds between the two samples of C(/proc/stat) that the CPU share is measured over.
    type: float
    default: 0.5
  dns_names:
    description: Names to resolve on the host.
    type: list
    elements: str
    default: []
  dns_expected:
    description: Addresses the names of O(dns_names) should resolve to (any of them). Not checked when empty.
    type: list
    elements: str
    default: []
  docker_host:
    description:
      - The Docker Engine API to read containers and logs from, V(unix:///path/to/docker.sock) or V(tcp://host:port) (plain HTTP).
      - Read with the Python standard library (two GET requests per container); the Docker SDK is not needed.
    type: str
    default: unix:///var/run/docker.sock
  secrets:
    description: Values to mask in the log lines quoted in the results.
    type: list
    elements: str
    default: []
  maintenance_path:
    description:
      - The host's maintenance marker, read and returned as RV(maintenance) (no file, no window). Reading it usually needs root.
    type: path
  backup:
    description:
      - Verify the newest backup archive as M(clawd.ops.backup_verify) does (checksum and manifest required), in the same call.
      - Reading the backup folder usually needs root (C(become)).
    type: dict
    suboptions:
      path:
        description: The backup folder (its newest archive matching O(backup.pattern) is verified), or an archive.
        type: path
        required: true
      pattern:
        description: Glob of the archives' names in the folder.
        type: str
        default: '*.tar.*'
      max_age:
        description: The oldest the archive may be (for example V(25h), V(90m) or seconds); its age is reported either way.
        type: str
requirements:
  - zstandard (Python library) on the host, for the backup check of C(.tar.zst) archives.
seealso:
  - module: clawd.ops.check_results
  - module: clawd.ops.app_watch
'''

EXAMPLES = r'''
- name: Measure the host in one call
  clawd.ops.host_checks:
    containers: [claudebox-web, telegram-bot, claude-backup]
    disk_paths: [/, /var/lib/docker]
    thresholds:
      disk: {warning: 70, critical: 80}
    dns_names: [app.example.com]
  register: host_checks

- name: Show what is not ok
  ansible.builtin.debug:
    msg: "{{ host_checks.results | rejectattr('status', 'equalto', 'ok') | map(attribute='reason') | list }}"
'''

RETURN = r'''
results:
  description: One check result per check of O(checks), in that order.
  returned: always
  type: list
  elements: dict
  sample: [{"check": "disk", "status": "ok", "value": 41.2, "unit": "%", "warning": 70, "critical": 80,
            "reason": "41.2 % used on / (120.3 GiB free) (warning at 70 %, critical at 80 %)", "measured_at": "2026-12-01T07:00:00Z"}]
maintenance:
  description:
    - The maintenance marker of O(maintenance_path) as M(ansible.builtin.slurp) registers a file (C(content) in base64, C(source)),
      V({}) when there is none, or C(failed) and C(msg) when it cannot be read (then the module does not fail).
  returned: when O(maintenance_path) is given
  type: dict
  sample: {"content": "eyJtYWludGVuYW5jZSI6IHRydWV9", "encoding": "base64", "source": "/var/lib/clawd/maintenance.json"}
backup:
  description:
    - The result M(clawd.ops.backup_verify) registers (C(archive), C(ok), C(checks), C(created), C(age_seconds), C(members), C(bytes),
      C(sha256), ...), without its C(manifest), C(unsafe_members) and C(spot_check); with C(failed) and C(msg) when the verification
      failed. A failed verification does not fail the module.
  returned: when O(backup) is given
  type: dict
  sample: {"archive": "/var/backups/clawd/clawd-20261201T030000Z-1.0.0.tar.zst", "ok": true, "created": "2026-12-01T03:00:00Z",
           "age_seconds": 14400.0, "checks": [{"name": "exists", "ok": true, "reason": "..."}], "changed": false}
requests:
  description: Requests found in the logs read (access lines), with the number answered 4xx and 5xx.
  returned: when a log check ran
  type: dict
  sample: {"total": 1520, "client_errors": 12, "server_errors": 3}
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import parse_age
from ansible_collections.clawd.ops.plugins.module_utils._containers import DockerSource, LogConfigError, compile_patterns
from ansible_collections.clawd.ops.plugins.module_utils._docker_engine import EngineError, EngineNotFound, EngineReader
from ansible_collections.clawd.ops.plugins.module_utils import _host_checks as daily
from ansible_collections.clawd.ops.plugins.module_utils._maintenance import read_as_slurp


def docker_checks(params, checks, thresholds, now, api):
    """Container and log results, and the request counts; unknown results when the engine cannot be asked."""
    wanted = [c for c in checks if c in ('containers', 'container_restarts', 'error_rate') or c in daily.LOG_CHECKS]
    if not wanted:
        return [], None
    results, requests = [], None
    try:
        source = DockerSource(api, now - params['log_hours'] * 3600, not_found=(EngineNotFound,))
        if 'containers' in wanted or 'container_restarts' in wanted:
            results += daily.judge_containers(source.states(params['containers']), wanted, thresholds)
        log_checks = [c for c in wanted if c == 'error_rate' or c in daily.LOG_CHECKS]
        if log_checks:
            names = params['containers'] if params['log_containers'] is None else params['log_containers']
            lines = source.lines_by_container(names)
            stats = daily.count_lines(lines, params['patterns'], params['secrets'])
            results += daily.judge_logs(stats, log_checks, thresholds, params['log_hours'])
            requests = {'total': stats['requests'], 'client_errors': stats['client_errors'], 'server_errors': stats['server_errors']}
    except EngineError as exc:
        reason = 'Failed to read containers from %s: %s' % (params['docker_host'], exc)
        done = set(r['check'] for r in results)
        results += [daily.unknown(c, reason) for c in wanted if c not in done]
    return results, requests


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type='list', elements='str', choices=list(daily.HOST_CHECKS), default=list(daily.HOST_CHECKS)),
            thresholds=dict(type='dict', default={}),
            containers=dict(type='list', elements='str', default=[]),
            log_containers=dict(type='list', elements='str'),
            log_hours=dict(type='float', default=24),
            patterns=dict(type='dict'),
            disk_paths=dict(type='list', elements='path', default=['/']),
            cpu_sample_seconds=dict(type='float', default=0.5),
            dns_names=dict(type='list', elements='str', default=[]),
            dns_expected=dict(type='list', elements='str', default=[]),
            docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
            secrets=dict(type='list', elements='str', default=[], no_log=True),
            maintenance_path=dict(type='path'),
            backup=dict(type='dict', options=dict(
                path=dict(type='path', required=True),
                pattern=dict(type='str', default='*.tar.*'),
                max_age=dict(type='str'),
            )),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        thresholds = daily.merge_thresholds(params['thresholds'])
        compile_patterns(params['patterns'])
        api = EngineReader(params['docker_host'], timeout=30)
    except (ValueError, LogConfigError) as exc:
        module.fail_json(msg='Invalid options: %s' % exc)
    if params['log_hours'] <= 0 or params['cpu_sample_seconds'] < 0:
        module.fail_json(msg='Invalid options: log_hours must be more than 0 and cpu_sample_seconds 0 or more')
    if params['backup'] and params['backup']['max_age']:
        try:
            parse_age(params['backup']['max_age'])
        except ValueError as exc:
            module.fail_json(msg='Invalid options: backup.max_age: %s' % exc)
    for value in params['secrets']:
        module.no_log_values.add(value)

    checks = list(dict.fromkeys(params['checks']))
    now = time.time()
    docker_results, requests = docker_checks(params, checks, thresholds, now, api)
    by_check = dict((res['check'], res) for res in docker_results)
    if 'disk' in checks:
        by_check['disk'] = daily.judge_disks(daily.read_disks(params['disk_paths']), thresholds)
    if 'memory' in checks:
        try:
            mem = daily.parse_meminfo(daily.read_file('/proc/meminfo'))
            what = '%s %% of %d MiB memory in use (%d MiB available)' % (mem['used_percent'], mem['total_mib'], mem['available_mib'])
            by_check['memory'] = daily.judged('memory', mem['used_percent'], thresholds, '%', what)
        except (OSError, ValueError) as exc:
            by_check['memory'] = daily.unknown('memory', 'Failed to read /proc/meminfo: %s' % exc)
    if 'cpu' in checks:
        try:
            busy = daily.read_cpu(params['cpu_sample_seconds'])
            what = '%s %% CPU busy over %s s' % (busy, params['cpu_sample_seconds'])
            by_check['cpu'] = daily.judged('cpu', busy, thresholds, '%', what)
        except (OSError, ValueError, IndexError) as exc:
            by_check['cpu'] = daily.unknown('cpu', 'Failed to read /proc/stat: %s' % exc)
    if 'dns' in checks:
        by_check['dns'] = daily.judge_dns(daily.resolve(params['dns_names']), params['dns_expected'])
    results = [by_check[c] for c in checks if c in by_check]
    out = dict(changed=False, results=results)
    if requests is not None:
        out['requests'] = requests
    if params['maintenance_path']:
        out['maintenance'] = read_as_slurp(params['maintenance_path'])
    if params['backup']:
        backup = params['backup']
        out['backup'] = daily.verify_backup(backup['path'], backup['pattern'], backup['max_age'])
    module.exit_json(**out)


if __name__ == '__main__':
    main()
