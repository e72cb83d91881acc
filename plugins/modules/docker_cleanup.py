#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: docker_cleanup
short_description: Safe Docker cleanup that says what it would remove and how many bytes that frees
version_added: 0.1.0
description:
  - Plans a cleanup of the Docker engine from one C(/system/df) answer and removes exactly that plan.
    Unlike M(community.docker.docker_prune) it supports check mode, where the plan lists every container, image and volume it
    would remove, why, and the bytes it frees.
  - Stopped containers (exited, created, dead) older than O(container_min_age_hours) are removed, never one carrying the Docker label O(keep_marker).
  - Images used by a container that stays (running or not) are never removed, nor the newest O(keep_app_images) images of each
    repository matching O(app_image_patterns) (the images a rollback needs, for example Coolify's C(<app uuid>:<commit>)),
    nor the parents of images that stay. Dangling images are removed, and older images of app repositories beyond the newest
    O(keep_app_images); other unused tagged images only with O(unused_images=true).
  - Named volumes are never removed; unused ones are listed in RV(plan.unused_named_volumes). Unused anonymous volumes are
    removed only with O(anonymous_volumes=true).
  - With O(scope), only containers, images and anonymous volumes carrying every given Docker label are candidates; protection
    still looks at every container of the engine. The build cache has no labels, so with a scope it is measured, not pruned.
  - Bytes freed by images are their unique bytes (size minus the layers they share with other images), so a lower bound.
author:
  - clawd.ops team (@clawd-ops)
requirements:
  - docker (the Docker SDK for Python) on the host
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Returns the same plan and RV(freed_bytes) that a real run would act on, and removes nothing.
  diff_mode:
    support: full
    details: Before and after lists of the containers, images and volumes in the plan.
  platform:
    platforms: posix
options:
  scope:
    description:
      - Only objects with all these Docker labels (C(name) or C(name=value)) are candidates, that is the containers, images
        and anonymous volumes that may be removed.
      - Empty means every object is a candidate (the protection rules still apply).
    type: list
    elements: str
    default: []
  keep_marker:
    description:
      - A stopped container carrying this Docker label (whatever its value) is kept, never removed.
    type: str
    default: clawd.ops.keep
  containers:
    description: Remove stopped containers.
    type: bool
    default: true
  container_min_age_hours:
    description: Only containers stopped (or, never started, created) at least this many hours ago are removed.
    type: int
    default: 24
  dangling_images:
    description: Remove dangling images (no tag, used by no container).
    type: bool
    default: true
  app_image_patterns:
    description:
      - Shell patterns of repositories whose images a rollback needs (for example the Coolify application's uuid).
        The newest O(keep_app_images) images of each are protected; older unused ones are removed.
    type: list
    elements: str
    default: []
  keep_app_images:
    description: How many of the newest images of each app repository to keep.
    type: int
    default: 5
  app_images:
    description: Remove images of app repositories beyond the newest O(keep_app_images). When false they are kept.
    type: bool
    default: true
  unused_images:
    description: Also remove tagged images that no container uses and that belong to no app repository.
    type: bool
    default: false
  anonymous_volumes:
    description: Remove unused anonymous volumes. Named volumes are never removed.
    type: bool
    default: false
  build_cache:
    description: Prune the unused build cache older than O(build_cache_min_age_hours) (only without O(scope)).
    type: bool
    default: true
  build_cache_min_age_hours:
    description: Only build cache unused for at least this many hours is pruned.
    type: int
    default: 24
notes:
  - Talks to the engine given by the C(DOCKER_HOST) environment variable, else the local socket.
seealso:
  - module: community.docker.docker_prune
  - module: clawd.ops.backup_retention
'''

EXAMPLES = r'''
- name: Show what a cleanup would remove and how much space it frees
  clawd.ops.docker_cleanup:
    app_image_patterns: ["{{ clawd_coolify_app_uuid }}"]
    keep_app_images: 5
  check_mode: true
  register: cleanup_plan

- name: Remove stopped containers older than a day and dangling images, except those labelled to keep
  clawd.ops.docker_cleanup:
    container_min_age_hours: 24
    keep_marker: com.example.keep
    app_image_patterns: ["????????????????????????"]

- name: Clean up only what carries a label (a shared engine)
  clawd.ops.docker_cleanup:
    scope: [com.example.owner=maintenance]
    container_min_age_hours: 0
'''

RETURN = r'''
plan:
  description: What is (in check mode, would be) removed, and what is protected or only listed.
  returned: always
  type: dict
  contains:
    containers:
      description: Stopped containers removed, each C(id), C(name), C(image), C(state), C(age_hours), C(bytes), C(reason).
      type: list
      elements: dict
    images:
      description: Images removed, each C(id), C(tags), C(bytes) (unique bytes), C(reason).
      type: list
      elements: dict
    volumes:
      description: Anonymous volumes removed, each C(name), C(bytes), C(reason).
      type: list
      elements: dict
    build_cache:
      description: C(prune), C(bytes), C(entries), C(reason) of the build cache.
      type: dict
    protected_images:
      description: Images that are never removed, each C(id), C(tags) and C(reasons).
      type: list
      elements: dict
    unused_named_volumes:
      description: Named volumes that no container uses, each C(name) and C(bytes); listed only, never removed.
      type: list
      elements: dict
    counts:
      description: How many of each the plan removes, and how many are protected or listed.
      type: dict
    freed_bytes:
      description: Bytes the plan frees.
      type: int
  sample:
    containers: [{"id": "3f2a", "name": "old-job", "image": "busybox", "state": "exited", "age_hours": 30.2, "bytes": 0,
                  "reason": "exited for 30.2 h (at least 24 h)"}]
    images: [{"id": "sha256:9c1e", "tags": [], "bytes": 1048576, "reason": "dangling (no tag, no container)"}]
    volumes: []
    build_cache: {"prune": false, "bytes": 0, "entries": 0, "reason": "0 unused build cache record(s) older than 24 h"}
    protected_images: [{"id": "sha256:77aa", "tags": ["app:1.4.2"], "reasons": ["used by container app-web"]}]
    unused_named_volumes: [{"name": "old-data", "bytes": 4096}]
    counts: {"containers": 1, "images": 1, "volumes": 0, "build_cache_entries": 0, "protected_images": 1, "unused_named_volumes": 1}
    freed_bytes: 1048576
freed_bytes:
  description: Bytes freed (in check mode, that would be freed); image bytes are a lower bound.
  returned: always
  type: int
  sample: 1048576
removed:
  description: What was removed (empty in check mode); something already gone counts as removed.
  returned: always
  type: dict
  sample: {"containers": ["old-job"], "images": ["sha256:9c1e"], "volumes": [], "build_cache_bytes": 0}
msg:
  description: What was (or would be) removed and the bytes it frees.
  returned: always
  type: str
  sample: "removed 1 container(s), 1 image(s), 0 volume(s), 0 build cache record(s): 1048576 bytes; kept 1 protected image(s), ..."
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._docker_cleanup import (
    DOCKER_IMPORT_ERROR,
    HAS_DOCKER,
    CleanupError,
    client_from_env,
    describe,
    execute,
    make_plan,
    plan_is_empty,
    read_engine,
)
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg


def _diff(plan):
    before = {'containers': sorted(item['name'] for item in plan['containers']),
              'images': sorted(item['tags'][0] if item['tags'] else item['id'] for item in plan['images']),
              'volumes': sorted(item['name'] for item in plan['volumes'])}
    return {'before': before, 'after': {'containers': [], 'images': [], 'volumes': []}}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            scope=dict(type='list', elements='str', default=[]),
            keep_marker=dict(type='str', default='clawd.ops.keep'),
            containers=dict(type='bool', default=True),
            container_min_age_hours=dict(type='int', default=24),
            dangling_images=dict(type='bool', default=True),
            app_image_patterns=dict(type='list', elements='str', default=[]),
            keep_app_images=dict(type='int', default=5),
            app_images=dict(type='bool', default=True),
            unused_images=dict(type='bool', default=False),
            anonymous_volumes=dict(type='bool', default=False),
            build_cache=dict(type='bool', default=True),
            build_cache_min_age_hours=dict(type='int', default=24),
        ),
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_lib_msg('docker'), exception=DOCKER_IMPORT_ERROR)
    params = module.params
    if params['keep_app_images'] < 0:
        module.fail_json(msg='keep_app_images must be 0 or more, not %d' % params['keep_app_images'])
    try:
        client = client_from_env()
        plan = make_plan(read_engine(client), time.time(), params)
    except CleanupError as exc:
        module.fail_json(msg='Failed to plan the Docker cleanup: %s' % exc)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='Failed to plan the Docker cleanup: %s' % exc)
    removed = {'containers': [], 'images': [], 'volumes': [], 'build_cache_bytes': 0}
    errors = []
    if not module.check_mode and not plan_is_empty(plan):
        removed, errors = execute(client, plan)
    result = dict(changed=not plan_is_empty(plan), plan=plan, freed_bytes=plan['freed_bytes'], removed=removed,
                  msg=describe(plan, module.check_mode))
    if module._diff:
        result['diff'] = _diff(plan)
    if errors:
        result['changed'] = bool(removed['containers'] or removed['images'] or removed['volumes'] or removed['build_cache_bytes'])
        module.fail_json(msg='Failed to clean up Docker: %s' % '; '.join(errors), **dict((k, v) for k, v in result.items() if k != 'msg'))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
