#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: coolify_application
short_description: Ensure a Coolify application built from a public git repository is present (as described) or absent
version_added: 0.1.0
description:
  - Finds the application named O(name) in environment O(environment) of project O(project_uuid) (or the one with O(uuid)),
    creates it when missing (C(POST /applications/public)), and updates the fields that drifted (C(PATCH /applications/{uuid})).
  - Managed fields are O(domains), O(git_repository), O(git_branch), O(build_pack), O(ports_exposes), O(health_check_path),
    O(pre_deployment_command), O(post_deployment_command), their containers and O(description); a field left unset is not
    managed, and an empty string clears one (Coolify reads it back as null).
  - With O(state=absent) the application is deleted (C(DELETE /applications/{uuid})); its containers are stopped and removed,
    its volumes are kept unless O(delete_volumes=true). The module then waits until Coolify no longer lists it.
  - Coolify answers 422 with the fields it refuses and 409 when a domain is served by another resource; the module fails with
    those field errors and the conflicting resource in its message.
  - A new application is not deployed unless O(instant_deploy=true); deploy it with M(clawd.ops.coolify_deploy), which waits
    for the deployment and reports how it ended.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.coolify
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the project, its environments and the applications, and reports what would be created, changed or deleted.
  diff_mode:
    support: full
    details: Shows the managed fields before and after.
  platform:
    platforms: posix
options:
  name:
    description:
      - Name of the application; with O(project_uuid) and O(environment), how the module finds it.
      - Required unless O(uuid) is given.
    type: str
  uuid:
    description:
      - UUID of an existing application, to address it directly (then O(name) and the project are not needed).
    type: str
  project_uuid:
    description:
      - UUID of the project (see M(clawd.ops.coolify_project)). Required unless O(uuid) is given.
    type: str
  environment:
    description:
      - Name of the project's environment the application lives in.
    type: str
    default: production
  server_uuid:
    description:
      - UUID of the server the application runs on. Needed to create it; not compared afterwards.
    type: str
  git_repository:
    description:
      - URL of the public git repository. C(https://github.com/owner/repo), C(github.com/owner/repo) and C(owner/repo) compare equal.
    type: str
  git_branch:
    description:
      - Branch to build.
    type: str
  build_pack:
    description:
      - How Coolify builds the application.
    type: str
    choices: [nixpacks, static, dockerfile, dockercompose]
  ports_exposes:
    description:
      - Ports the application listens on, comma-separated (C(8080) or C(8080,8081)). Needed to create it, except with dockercompose.
    type: str
  domains:
    description:
      - Comma-separated URLs the application is served at (Coolify's C(fqdn)), for example C(https://acme.example.com).
      - Compared without regard to order, case or a trailing slash.
    type: str
  health_check_path:
    description:
      - Path of the health check Coolify calls.
    type: str
  pre_deployment_command:
    description:
      - Command run in the old container before a deployment.
    type: str
  post_deployment_command:
    description:
      - Command run in the new container after a deployment (a database migration, for example). Coolify only logs a failing
        one (C(Post-deployment command failed.)); the deployment still finishes.
    type: str
  pre_deployment_command_container:
    description:
      - The container (the compose service's name) the pre-deployment command runs in, when the application has several.
    type: str
    version_added: 0.1.0
  post_deployment_command_container:
    description:
      - The container (the compose service's name) the post-deployment command runs in, when the application has several.
    type: str
    version_added: 0.1.0
  description:
    description:
      - Description of the application.
    type: str
  instant_deploy:
    description:
      - Queue the first deployment when the application is created (ignored when it exists).
    type: bool
    default: false
  state:
    description:
      - Whether the application must exist (as described) or not.
    type: str
    choices: [present, absent]
    default: present
  delete_volumes:
    description:
      - With O(state=absent), delete the application's volumes too. The default keeps them (the data outlives the application).
    type: bool
    default: false
  wait_timeout:
    description:
      - With O(state=absent), seconds to wait until Coolify no longer lists the application (its deletion runs in the background).
    type: int
    default: 60
'''

EXAMPLES = r'''
- name: Create the tenant's application (or bring it back to this description)
  clawd.ops.coolify_application:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    project_uuid: "{{ tenant_project.uuid }}"
    environment: production
    server_uuid: "{{ tenant_server_uuid }}"
    name: acme
    git_repository: https://github.com/example/claudebox
    git_branch: main
    build_pack: dockerfile
    ports_exposes: "8080"
    domains: https://acme.example.com
    health_check_path: /health
  register: tenant_app

- name: Remove the application, keeping its volumes
  clawd.ops.coolify_application:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: "{{ tenant_app.uuid }}"
    state: absent
'''

RETURN = r'''
uuid:
  description: UUID of the application (null when it does not exist, or would be created in check mode).
  returned: always
  type: str
  sample: vgsco4o8k0wgsk4ok0gc0s0g
application:
  description: The managed fields of the application as Coolify holds them after the run (before it, in check mode), with its status.
  returned: when the application exists
  type: dict
  sample: {uuid: vgsco4o8k0wgsk4ok0gc0s0g, name: acme, fqdn: https://acme.example.com, git_branch: main, status: "running:healthy"}
created:
  description: Whether the application was (or would be) created.
  returned: always
  type: bool
deleted:
  description: Whether the application was (or would be) deleted.
  returned: always
  type: bool
changed_fields:
  description: The managed fields that differed and were (or would be) updated.
  returned: always
  type: list
  elements: str
  sample: [git_branch, health_check_path]
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _coolify as cf
from ansible_collections.clawd.ops.plugins.module_utils._transport import require_requests

# option -> the field Coolify returns it in (it takes ``domains`` and answers ``fqdn``).
MANAGED = {'description': 'description', 'domains': 'fqdn', 'git_repository': 'git_repository', 'git_branch': 'git_branch',
           'build_pack': 'build_pack', 'ports_exposes': 'ports_exposes', 'health_check_path': 'health_check_path',
           'pre_deployment_command': 'pre_deployment_command', 'post_deployment_command': 'post_deployment_command',
           'pre_deployment_command_container': 'pre_deployment_command_container',
           'post_deployment_command_container': 'post_deployment_command_container'}
SHOWN = ('uuid', 'name', 'fqdn', 'status', 'environment_id') + tuple(v for v in MANAGED.values() if v != 'fqdn')


def normalize(option, value):
    """A field's value in the form two values are compared in."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None  # Laravel reads an empty string back as null
    if option == 'domains':
        return ','.join(sorted(set(d.strip().lower().rstrip('/') for d in text.split(',') if d.strip())))
    if option == 'ports_exposes':
        return text.replace(' ', '')
    if option == 'git_repository':
        for prefix in ('https://', 'http://', 'git://'):
            if text.startswith(prefix):
                text = text[len(prefix):]
        if text.startswith('github.com/'):
            text = text[len('github.com/'):]
        text = text.rstrip('/')
        return text[:-4] if text.endswith('.git') else text
    return text


def drift(application, wanted):
    """The managed options whose wanted value differs from the application's: ``{option: (current, wanted)}``."""
    out = {}
    for option, value in wanted.items():
        if value is None:
            continue
        current = application.get(MANAGED[option])
        if normalize(option, current) != normalize(option, value):
            out[option] = (current, value)
    return out


def shown(application):
    return dict((k, application.get(k)) for k in SHOWN if k in application)


def find(client, params):
    """The application as Coolify returns it, or None; fails when the name is ambiguous."""
    if params['uuid']:
        try:
            return client.application(params['uuid'])
        except cf.CoolifyError as exc:
            if exc.status == 404:
                return None
            raise
    environment = find_environment(client, params['project_uuid'], params['environment'])
    if environment is None:
        raise cf.CoolifyError('Failed to find application %s: project %s has no environment %s (create it with clawd.ops.coolify_project)'
                              % (params['name'], params['project_uuid'], params['environment']))
    found = [a for a in client.applications() if a.get('name') == params['name'] and a.get('environment_id') == environment.get('id')]
    if len(found) > 1:
        raise cf.CoolifyError('Failed to find application %s: %d applications of that name in environment %s of project %s (%s); name one by uuid'
                              % (params['name'], len(found), params['environment'], params['project_uuid'],
                                 ', '.join(a.get('uuid') or '?' for a in found)))
    return found[0] if found else None


def find_environment(client, project_uuid, name):
    project = client.project(project_uuid)
    return next((e for e in project.get('environments') or () if isinstance(e, dict) and name in (e.get('name'), e.get('uuid'))), None)


def create_body(params, wanted):
    missing = [k for k in ('server_uuid', 'git_repository', 'git_branch', 'build_pack') if not params[k]]
    if params['build_pack'] != 'dockercompose' and not params['ports_exposes']:
        missing.append('ports_exposes')
    if missing:
        raise cf.CoolifyError('Failed to create application %s: %s %s needed to create it' % (
            params['name'], ', '.join(missing), 'is' if len(missing) == 1 else 'are'))
    body = dict((k, v) for k, v in wanted.items() if v is not None)
    body.update(project_uuid=params['project_uuid'], server_uuid=params['server_uuid'], environment_name=params['environment'],
                name=params['name'])
    if params['instant_deploy']:
        body['instant_deploy'] = True
    return body


def wait_gone(client, uuid, timeout, sleep=time.sleep, clock=time.monotonic):
    """Whether Coolify stopped listing the application within ``timeout`` seconds."""
    deadline = clock() + timeout
    for wait in cf.poll_intervals(1, 5):
        try:
            client.application(uuid)
        except cf.CoolifyError as exc:
            if exc.status == 404:
                return True
            raise
        left = deadline - clock()
        if left <= 0:
            return False
        sleep(min(wait, left))


def run(module, client):
    params = module.params
    wanted = dict((option, params[option]) for option in MANAGED)
    result = {'changed': False, 'created': False, 'deleted': False, 'changed_fields': [], 'uuid': None}
    application = find(client, params)
    label = params['name'] or params['uuid']
    before = shown(application) if application else {}
    if params['state'] == 'absent':
        result['diff'] = {'before': before, 'after': {}}
        if application is None:
            return result
        result.update(changed=True, deleted=True, uuid=application['uuid'], application=before)
        if not module.check_mode:
            client.delete_application(application['uuid'], delete_volumes=params['delete_volumes'], name=application.get('name'))
            if not wait_gone(client, application['uuid'], params['wait_timeout']):
                raise cf.CoolifyError('Failed to delete application %s: Coolify still lists it %d seconds after the deletion was queued'
                                      % (application.get('name') or application['uuid'], params['wait_timeout']))
        return result
    if application is None:
        if params['uuid']:
            raise cf.CoolifyError('Failed to find application %s: Coolify has no application with that uuid' % params['uuid'])
        body = create_body(params, wanted)
        after = dict((MANAGED.get(k, k), v) for k, v in body.items() if k in MANAGED or k == 'name')
        result.update(changed=True, created=True, changed_fields=sorted(k for k, v in wanted.items() if v is not None),
                      diff={'before': {}, 'after': after})
        if module.check_mode:
            return result
        result['uuid'] = client.create_application(body, name=label)
        result['application'] = shown(client.application(result['uuid']))
        return result
    result['uuid'] = application['uuid']
    differences = drift(application, wanted)
    after = dict(before)
    for option, (_current, value) in differences.items():
        after[MANAGED[option]] = value
    result.update(changed=bool(differences), changed_fields=sorted(differences), diff={'before': before, 'after': after},
                  application=before)
    if differences and not module.check_mode:
        client.update_application(application['uuid'], dict((k, v[1]) for k, v in differences.items()), name=application.get('name'))
        result['application'] = shown(client.application(application['uuid']))
    return result


def main():
    argument_spec = cf.coolify_argument_spec()
    argument_spec.update(
        name=dict(type='str'),
        uuid=dict(type='str'),
        project_uuid=dict(type='str'),
        environment=dict(type='str', default='production'),
        server_uuid=dict(type='str'),
        git_repository=dict(type='str'),
        git_branch=dict(type='str'),
        build_pack=dict(type='str', choices=['nixpacks', 'static', 'dockerfile', 'dockercompose']),
        ports_exposes=dict(type='str'),
        domains=dict(type='str'),
        health_check_path=dict(type='str'),
        pre_deployment_command=dict(type='str'),
        post_deployment_command=dict(type='str'),
        pre_deployment_command_container=dict(type='str'),
        post_deployment_command_container=dict(type='str'),
        description=dict(type='str'),
        instant_deploy=dict(type='bool', default=False),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        delete_volumes=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=60),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[('name', 'uuid')])
    require_requests(module)
    if module.params['uuid'] is None and module.params['project_uuid'] is None:
        module.fail_json(msg='project_uuid is required to find an application by name')
    cf.CoolifyClient.run_module(module, lambda client: run(module, client))


if __name__ == '__main__':
    main()
