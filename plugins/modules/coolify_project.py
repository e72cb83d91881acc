#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: coolify_project
short_description: Ensure a Coolify project and its environments are present, or the project absent
version_added: 0.1.0
description:
  - Finds the project named O(name) (C(GET /projects)), creates it when missing (C(POST /projects); Coolify gives a new
    project the environment C(production)), and creates the environments of O(environments) it lacks
    (C(POST /projects/{uuid}/environments)). Environments not listed are left alone.
  - With O(state=absent) the project is deleted (C(DELETE /projects/{uuid})); Coolify refuses while it holds resources.
  - The description is set on creation only (Coolify's API has no update of a project in the versions this collection supports).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.coolify
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the projects and reports what would be created or deleted.
  diff_mode:
    support: full
    details: Shows the project's name and environments before and after.
  platform:
    platforms: posix
options:
  name:
    description:
      - Name of the project. Project names are not unique in Coolify; the module fails when several projects have this name.
    type: str
    required: true
  description:
    description:
      - Description of a project the module creates.
    type: str
  environments:
    description:
      - Names of the environments the project must have.
    type: list
    elements: str
    default: [production]
  state:
    description:
      - Whether the project must exist or not.
    type: str
    choices: [present, absent]
    default: present
'''

EXAMPLES = r'''
- name: Make the tenant's project
  clawd.ops.coolify_project:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    name: tenant-acme
    environments: [production]
  register: tenant_project
'''

RETURN = r'''
uuid:
  description: UUID of the project (null when absent, or to be created in check mode).
  returned: always
  type: str
  sample: og888os
environments:
  description: The project's environments after the run (name and uuid), as far as known in check mode.
  returned: always
  type: list
  elements: dict
  sample: [{name: production, uuid: k0wgsk4ok0gc0s0gvgsco4o8}]
created:
  description: Whether the project was (or would be) created.
  returned: always
  type: bool
created_environments:
  description: Names of the environments created (or that would be).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _coolify as cf
from ansible_collections.clawd.ops.plugins.module_utils._transport import require_requests

# A project Coolify creates starts with this environment.
FIRST_ENVIRONMENT = 'production'


def run(module, client):
    params = module.params
    found = [p for p in client.projects() if isinstance(p, dict) and p.get('name') == params['name']]
    if len(found) > 1:
        raise cf.CoolifyError('Failed to find project %s: %d projects have that name (%s)' % (
            params['name'], len(found), ', '.join(p.get('uuid') or '?' for p in found)))
    project = client.project(found[0]['uuid']) if found else None
    environments = [{'name': e.get('name'), 'uuid': e.get('uuid')} for e in (project or {}).get('environments') or () if isinstance(e, dict)]
    before = {'name': params['name'], 'environments': sorted(e['name'] for e in environments)} if project else {}
    result = {'changed': False, 'created': False, 'created_environments': [], 'uuid': project['uuid'] if project else None,
              'environments': environments}
    if params['state'] == 'absent':
        result['diff'] = {'before': before, 'after': {}}
        if project is not None:
            result['changed'] = True
            if not module.check_mode:
                client.delete_project(project['uuid'], name=params['name'])
        return result
    if project is None:
        result.update(changed=True, created=True)
        environments = [{'name': FIRST_ENVIRONMENT, 'uuid': None}]
        if not module.check_mode:
            result['uuid'] = client.create_project(params['name'], params['description'])
            environments = [{'name': e.get('name'), 'uuid': e.get('uuid')} for e in client.project(result['uuid']).get('environments') or ()]
    have = set(e['name'] for e in environments)
    for name in params['environments']:
        if name in have:
            continue
        result['changed'] = True
        result['created_environments'].append(name)
        uuid = None if module.check_mode else client.create_environment(result['uuid'], name)
        environments.append({'name': name, 'uuid': uuid})
        have.add(name)
    result['environments'] = environments
    result['diff'] = {'before': before, 'after': {'name': params['name'], 'environments': sorted(have)}}
    return result


def main():
    argument_spec = cf.coolify_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        description=dict(type='str'),
        environments=dict(type='list', elements='str', default=[FIRST_ENVIRONMENT]),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_requests(module)
    cf.CoolifyClient.run_module(module, lambda client: run(module, client))


if __name__ == '__main__':
    main()
