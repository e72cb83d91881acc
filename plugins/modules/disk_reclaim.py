#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: disk_reclaim
short_description: Free space on a full filesystem in a safe order, stopping as soon as the target is reached
version_added: 0.1.0
description:
  - Frees space on the filesystem that holds O(path) by running O(steps) in order, measuring the free space (C(statvfs),
    the space available to unprivileged users as C(df) shows it) after each, and stopping as soon as it reaches
    O(target_free_percent). Within the file steps, it stops after the file that reached the target.
  - C(build_cache) prunes the unused Docker build cache; C(dangling_images) removes images without a tag that no
    container uses (the plans of M(clawd.ops.docker_cleanup)).
  - C(stopped_containers) removes stopped containers whose name starts with O(containers_prefix) and that carry every
    label of O(containers_scope), stopped for at least O(container_min_age_hours), never one with the label
    O(keep_marker). It runs only when listed in O(steps) and given a prefix or labels.
  - C(old_logs) deletes files under O(log_paths) not written for O(log_max_age_days), rotated ones first (C(app.log.1),
    C(app.log.2.gz), C(app.log-20261201)), then the others, oldest first in each group. Files are deleted, never
    truncated (truncating a file that a process writes without C(O_APPEND) leaves a sparse file as large as before);
    a file that a process holds open is passed over (deleting it would free nothing until it is closed), and so are
    links and files on another filesystem.
  - C(old_archives) deletes backup archives in O(backup_dir) beyond the newest O(keep_archives) (with their C(.sha256)
    and manifest), and stale C(.partial) leftovers, oldest first, as M(clawd.ops.backup_retention) plans them. The newest
    archive and the newest verified archive are never deleted, and nothing is deleted when the newest archive is not
    verified.
  - Docker volumes are never removed, named or anonymous, and containers are removed without their volumes. The Docker
    steps are passed over when the Docker engine cannot be reached, or when its data root (O(docker_root)) is visible
    here and on another filesystem than O(path).
author:
  - clawd.ops team (@clawd-ops)
requirements:
  - docker (the Docker SDK for Python) on the host, for the Docker steps
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Returns the plan and changes nothing; each step's C(estimated_bytes) in RV(steps) comes from the engine's sizes and the
        files' allocated sizes, and the later steps are marked as those the target would be reached before.
      - Image sizes are their unique bytes, so the estimate of C(dangling_images) is a lower bound.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description: A path on the filesystem to free (for example the app's data folder).
    type: path
    required: true
  target_free_percent:
    description: Stop as soon as this much of the filesystem is free (percent of its size).
    type: float
    default: 20
  steps:
    description: The steps to run, in this order.
    type: list
    elements: str
    choices: [build_cache, dangling_images, stopped_containers, old_logs, old_archives]
    default: [build_cache, dangling_images, old_logs, old_archives]
  containers_prefix:
    description: C(stopped_containers) removes only containers whose name starts with this.
    type: str
  containers_scope:
    description:
      - C(stopped_containers) removes only containers carrying every one of these Docker labels (C(name) or C(name=value)),
        like the O(clawd.ops.docker_cleanup#module:scope) of M(clawd.ops.docker_cleanup).
    type: list
    elements: str
    default: []
  container_min_age_hours:
    description: C(stopped_containers) removes only containers stopped at least this many hours ago.
    type: int
    default: 1
  keep_marker:
    description: A stopped container carrying this Docker label is never removed.
    type: str
    default: clawd.ops.keep
  log_paths:
    description: Files and folders (searched below, links not followed) whose old log files C(old_logs) deletes.
    type: list
    elements: path
    default: []
  log_max_age_days:
    description: C(old_logs) deletes only files not written for this many days.
    type: int
    default: 7
  backup_dir:
    description: The folder of the backup archives that C(old_archives) thins out.
    type: path
  backup_pattern:
    description: Shell pattern of the archives' names in O(backup_dir).
    type: str
    default: '*.tar.*'
  keep_archives:
    description: How many of the newest archives C(old_archives) keeps (at least 1; the newest verified one is kept anyway).
    type: int
    default: 3
  docker_root:
    description:
      - Docker's data root, to tell whether the Docker steps can free space on the filesystem of O(path). When it is not
        a folder here (the engine runs elsewhere) or empty, the Docker steps run whatever the filesystem.
    type: path
    default: /var/lib/docker
  docker_host:
    description: The Docker Engine API, C(unix://) or C(tcp://). Defaults to the environment variable C(DOCKER_HOST) when it is set.
    type: str
    default: unix:///var/run/docker.sock
notes:
  - Never runs C(docker system prune -a --volumes), which deletes data.
seealso:
  - module: clawd.ops.docker_cleanup
  - module: clawd.ops.backup_retention
'''

EXAMPLES = r'''
- name: Show what each step would free on the data disk
  clawd.ops.disk_reclaim:
    path: /srv/claudebox
    target_free_percent: 20
    log_paths: [/var/log/claudebox]
    backup_dir: /srv/backups
  check_mode: true
  register: incident_disk_plan

- name: Free the data disk until 20 % is free, stale app containers included
  clawd.ops.disk_reclaim:
    path: /srv/claudebox
    target_free_percent: 20
    steps: [build_cache, dangling_images, stopped_containers, old_logs, old_archives]
    containers_prefix: claudebox-
    log_paths: [/var/log/claudebox]
    log_max_age_days: 3
    backup_dir: /srv/backups
    keep_archives: 3
  register: incident_disk_reclaim
'''

RETURN = r'''
steps:
  description:
    - One entry per step of O(steps), in order. C(freed_bytes) is the free space it gained, measured (in check mode, its
      estimate when it would run); C(estimated_bytes) what the engine's sizes and the files' sizes say it removes;
      C(items) the names removed (at most 50; C(items_total) counts them all); C(skipped_reason) why it did not run, or null.
    - C(old_logs) may carry C(passed_over), the files left because they are open or on another filesystem.
  returned: always
  type: list
  elements: dict
  sample: [{"step": "build_cache", "freed_bytes": 0, "estimated_bytes": 0, "items": [], "items_total": 0,
            "skipped_reason": "nothing to remove"},
           {"step": "old_logs", "freed_bytes": 104857600, "estimated_bytes": 104857600, "items": ["/var/log/app/app.log.2.gz"],
            "items_total": 1, "skipped_reason": null},
           {"step": "old_archives", "freed_bytes": 0, "estimated_bytes": 0, "items": [], "items_total": 0,
            "skipped_reason": "the target was reached before this step"}]
free_before:
  description: Free space before, C(bytes), C(percent) and C(total) (bytes) of the filesystem.
  returned: always
  type: dict
  sample: {"bytes": 1048576, "percent": 1.0, "total": 104857600}
free_after:
  description: Free space after (in check mode, as predicted), like RV(free_before).
  returned: always
  type: dict
  sample: {"bytes": 21495808, "percent": 20.5, "total": 104857600}
reached_target:
  description: Whether the free space reached O(target_free_percent) (in check mode, would reach it).
  returned: always
  type: bool
  sample: true
target_free_percent:
  description: The target.
  returned: always
  type: float
  sample: 20.0
errors:
  description: Removals that failed (the task fails when there is any).
  returned: always
  type: list
  elements: str
  sample: []
msg:
  description: What each step freed (or would free) and the free space before and after.
  returned: always
  type: str
  sample: "old_logs freed 104857600 bytes (/var/log/app/app.log.2.gz); free space 1.0% -> 20.5% (target 20%, reached)"
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._disk_reclaim import (
    DEFAULT_STEPS,
    DOCKER_STEPS,
    STEPS,
    ReclaimError,
    Reclaimer,
    describe,
)
from ansible_collections.clawd.ops.plugins.module_utils._docker import DOCKER_ERRORS, HAS_DOCKER, docker, docker_host_option


def make_docker_client(docker_host):
    """The test seam: a Docker SDK client (its .api is used). Tests replace this function."""
    return docker.DockerClient(base_url=docker_host, version='auto')


def _engine(params):
    """(client, None) or (None, why the engine cannot be reached)."""
    if not any(step in DOCKER_STEPS for step in params['steps']):
        return None, 'no Docker step was asked for'
    if not HAS_DOCKER:
        return None, 'the Docker SDK for Python (docker) is not installed'
    try:
        client = make_docker_client(params['docker_host'])
        client.api.ping()
    except DOCKER_ERRORS as exc:
        return None, str(exc)
    except Exception as exc:  # pylint: disable=broad-except
        return None, str(exc)
    return client, None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            target_free_percent=dict(type='float', default=20),
            steps=dict(type='list', elements='str', choices=list(STEPS), default=list(DEFAULT_STEPS)),
            containers_prefix=dict(type='str'),
            containers_scope=dict(type='list', elements='str', default=[]),
            container_min_age_hours=dict(type='int', default=1),
            keep_marker=dict(type='str', default='clawd.ops.keep'),
            log_paths=dict(type='list', elements='path', default=[]),
            log_max_age_days=dict(type='int', default=7),
            backup_dir=dict(type='path'),
            backup_pattern=dict(type='str', default='*.tar.*'),
            keep_archives=dict(type='int', default=3),
            docker_root=dict(type='path', default='/var/lib/docker'),
            docker_host=docker_host_option(),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['log_max_age_days'] < 0 or params['container_min_age_hours'] < 0:
        module.fail_json(msg='log_max_age_days and container_min_age_hours must be 0 or more')
    if params['keep_archives'] < 1:
        module.fail_json(msg='keep_archives must be 1 or more: the newest archive is never deleted')
    if len(set(params['steps'])) != len(params['steps']):
        module.fail_json(msg='steps: each step at most once, not %s' % ', '.join(params['steps']))
    engine, problem = _engine(params)
    try:
        reclaimer = Reclaimer(params['path'], params['target_free_percent'], params, time.time(), engine, problem,
                              check_mode=module.check_mode)
        result = reclaimer.run(params['steps'])
    except ReclaimError as exc:
        module.fail_json(msg='Failed to free space on the filesystem of %s: %s' % (params['path'], exc))
    result['msg'] = describe(result, module.check_mode)
    if result['errors']:
        module.fail_json(**dict(result, msg='Failed to free space on the filesystem of %s: %s' % (params['path'], '; '.join(result['errors']))))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
