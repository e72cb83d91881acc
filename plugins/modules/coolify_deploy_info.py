#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: coolify_deploy_info
short_description: Read a Coolify application, its deployment history, one deployment and its rollback images
version_added: 0.1.0
description:
  - Reads the Coolify server version and, when O(uuid) is given, the application (status, fqdn, commit...),
    its recent deployments, newest first, and (Coolify 4.3.0 and later) the images it can be rolled back to.
  - With O(deployment_uuid), reads that deployment and the tail of its log.
  - Never changes anything.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.coolify
  - clawd.ops.transport
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
  uuid:
    description:
      - UUID of the application to read.
    type: str
  deployment_uuid:
    description:
      - UUID of one deployment to read, with the tail of its log.
    type: str
  take:
    description:
      - How many deployments of the application to return, newest first.
    type: int
    default: 10
  skip:
    description:
      - How many of the newest deployments to leave out (for paging).
    type: int
    default: 0
  logs_tail_lines:
    description:
      - How many log lines of O(deployment_uuid) to return (hidden entries left out).
    type: int
    default: 30
notes:
  - Deployment logs are returned only to a token with the C(read:sensitive) or C(root) ability.
seealso:
  - module: clawd.ops.coolify_deploy
'''

EXAMPLES = r'''
- name: Read the application and its last five deployments
  clawd.ops.coolify_deploy_info:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g
    take: 5
  register: coolify_app

- name: Show why a deployment failed
  clawd.ops.coolify_deploy_info:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    deployment_uuid: zwkcc8s0g8g04wc8w8so4c44
    logs_tail_lines: 50
'''

RETURN = r'''
version:
  description: The Coolify server version.
  returned: always
  type: str
  sample: 4.3.10
rollback_api:
  description: Whether this Coolify has the rollback endpoint (4.3.0 and later).
  returned: always
  type: bool
  sample: true
application:
  description: The application (uuid, name, status, fqdn, build_pack, git_branch, git_commit_sha, image name and tag).
  returned: when O(uuid) is given
  type: dict
  sample: {"uuid": "vgsco4o8k0wgsk4ok0gc0s0g", "name": "web", "status": "running:healthy", "git_commit_sha": "HEAD"}
healthy:
  description: Whether the application's status is C(running:healthy).
  returned: when O(uuid) is given
  type: bool
count:
  description: How many deployments the application has in all.
  returned: when O(uuid) is given
  type: int
  sample: 12
deployments:
  description: The application's deployments, newest first, without their logs, each with its C(duration) in seconds.
  returned: when O(uuid) is given
  type: list
  elements: dict
  sample: [{"deployment_uuid": "zwkcc8s0g8g04wc8w8so4c44", "status": "finished", "commit": "3f2a9c1e", "duration": 42.5}]
last_finished:
  description: The newest finished deployment among RV(deployments), or null.
  returned: when O(uuid) is given
  type: dict
rollback_images:
  description: The images Coolify can roll the application back to (C(current) tag and C(images)), empty before 4.3.0.
  returned: when O(uuid) is given
  type: dict
  sample: {"current": "3f2a9c1e", "images": [{"tag": "3f2a9c1e", "created_at": "2026-01-31T12:00:00Z", "is_current": true}]}
deployment:
  description:
    - The deployment O(deployment_uuid), without its raw logs, with C(logs_tail), C(logs_available) and C(duration).
  returned: when O(deployment_uuid) is given
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _coolify as cf
from ansible_collections.clawd.ops.plugins.module_utils._transport import require_requests


def gather(client, params):
    version = client.version()
    result = {'changed': False, 'version': version, 'rollback_api': cf.has_rollback_api(version)}
    if params['uuid']:
        app = client.application(params['uuid'])
        count, deployments = client.deployments(params['uuid'], take=params['take'], skip=params['skip'])
        last = cf.newest_finished(deployments)
        result.update(application=cf.summarize_application(app), healthy=cf.is_healthy(app.get('status')), count=count,
                      deployments=[cf.summarize_deployment(d) for d in deployments],
                      last_finished=cf.summarize_deployment(last) if last else None,
                      rollback_images=client.rollback_images(params['uuid']) if result['rollback_api'] else {'current': None, 'images': []})
    if params['deployment_uuid']:
        deployment = client.deployment(params['deployment_uuid'])
        result['deployment'] = cf.summarize_deployment(deployment, params['logs_tail_lines'])
    return result


def main():
    argument_spec = cf.coolify_argument_spec()
    argument_spec.update(
        uuid=dict(type='str'),
        deployment_uuid=dict(type='str'),
        take=dict(type='int', default=10),
        skip=dict(type='int', default=0),
        logs_tail_lines=dict(type='int', default=30),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_requests(module)
    params = module.params
    if params['take'] < 1 or params['skip'] < 0 or params['logs_tail_lines'] < 0:
        module.fail_json(msg='take must be 1 or more, skip and logs_tail_lines 0 or more')
    cf.CoolifyClient.run_module(module, lambda client: gather(client, params))


if __name__ == '__main__':
    main()
