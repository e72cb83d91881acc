#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: coolify_deploy
short_description: Deploy, pin or roll back a Coolify application and wait for the deployment to end
version_added: 0.1.0
description:
  - Queues a deployment of a Coolify v4 application (by O(uuid)) or of every application with a tag (O(tag)) with C(POST /deploy),
    and waits until each deployment is C(finished), C(failed) or C(cancelled-by-user).
  - With O(commit), first sets the application's C(git_commit_sha) to that commit. This B(pins) the application to the commit;
    later deployments, webhooks included, build it again until O(commit=HEAD) makes it follow its branch again.
  - With O(docker_tag), first sets the C(docker_registry_image_tag) of a Docker image application.
  - With O(rollback), redeploys an earlier build. On Coolify 4.3.0 and later this is C(POST /applications/{uuid}/rollback),
    which reuses the image built for that commit and changes no application field; the module first checks that Coolify still
    has that image. Before 4.3.0 it sets C(git_commit_sha) (which pins, as O(commit) does) and deploys.
    A Docker image application is rolled back by setting its image tag and deploying.
  - Fails when a deployment ends C(failed) or C(cancelled-by-user), with the last lines of its log; the message quotes its
    last error line (the last line when there is none).
  - Fails when O(wait_timeout) passes, or when following the deployment fails; it then cancels the deployments that have not
    ended (O(cancel_on_timeout)), and the result keeps RV(deployment_uuid).
  - The deployment request is not repeated after a server error or a lost answer, since Coolify may have queued it already
    and a repeat would queue a second deployment; it is repeated after a refused connection and after HTTP 429 (queue full).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.coolify
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the application (and its history and rollback images when needed) and reports in RV(would_deploy) what would
      be deployed; calls no endpoint that changes anything.
  diff_mode:
    support: full
    details: Shows the application's C(git_commit_sha) or image tag and the deployed commit, before and after.
  platform:
    platforms: posix
options:
  uuid:
    description:
      - UUID of the application to deploy.
      - Exactly one of O(uuid) and O(tag) is required.
    type: str
  tag:
    description:
      - Deploy every application with this Coolify tag (a comma-separated list is accepted).
      - Cannot be used with O(commit), O(docker_tag) or O(rollback).
    type: str
  force:
    description:
      - Rebuild without the build cache.
    type: bool
    default: false
  commit:
    description:
      - Commit SHA to deploy. The application stays pinned to it (its C(git_commit_sha) is set).
      - V(HEAD) unpins the application, which then deploys the head of its branch; a deployment always happens then.
    type: str
  docker_tag:
    description:
      - Image tag to deploy, for a Docker image application (C(build_pack=dockerimage)).
    type: str
  rollback:
    description:
      - Commit SHA (a Docker image application - image tag) to roll back to, or V(previous).
      - V(previous) is the commit of the newest finished deployment before the current one
        (failed and cancelled deployments and the current commit are skipped), from the last O(history_size) deployments.
    type: str
  history_size:
    description:
      - How many recent deployments to read for O(rollback=previous) and for the idempotence check.
    type: int
    default: 20
  redeploy:
    description:
      - With O(commit), O(docker_tag) or O(rollback), deploy even when the newest finished deployment already runs that target
        and the application is C(running:healthy). When false, the module does nothing then (C(changed=false)).
      - A plain deploy of the branch head (no target) always deploys.
    type: bool
    default: false
  wait:
    description:
      - Wait until every deployment ends. When false, returns once the deployment is queued.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the deployments to end; then the module fails naming the deployment and its last status.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between the first two polls; each wait is 1.5 times the previous one, up to O(poll_max_interval).
    type: float
    default: 2
  poll_max_interval:
    description:
      - Longest wait between two polls, in seconds.
    type: float
    default: 10
  logs_tail_lines:
    description:
      - How many log lines of a failed deployment to return in RV(logs_tail).
    type: int
    default: 30
  cancel_on_timeout:
    description:
      - When O(wait_timeout) passes, or following a deployment fails (Coolify stops answering), cancel each deployment that
        has not ended (C(POST /deployments/{uuid}/cancel)) and read its status again, so that Coolify does not swap in a
        release nobody verified later. The module fails either way, keeping RV(deployment_uuid) and listing RV(cancelled).
      - A deployment that ended meanwhile is reported as it ended (a finished one is a success).
      - Once every such deployment is cancelled, the fields this task changed first (C(git_commit_sha) for O(commit),
        the image tag for O(docker_tag)) are set back, so that no later deployment builds the target nobody verified.
    type: bool
    default: true
notes:
  - Deployment logs are returned only to a token with the C(read:sensitive) or C(root) ability; without one, RV(logs_tail) is empty
    and the message says so.
seealso:
  - module: clawd.ops.coolify_deploy_info
'''

EXAMPLES = r'''
- name: Deploy the head of the application's branch and wait for it
  clawd.ops.coolify_deploy:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g

- name: Roll back to the previous finished deployment
  clawd.ops.coolify_deploy:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g
    rollback: previous

- name: Pin release 3f2a9c1 (nothing happens if it already runs healthy)
  clawd.ops.coolify_deploy:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g
    commit: 3f2a9c1e5b7d4c0a8e6f1b2d3c4a5e6f7a8b9c0d

- name: Follow the branch again
  clawd.ops.coolify_deploy:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g
    commit: HEAD

- name: Queue a deployment of every production application without waiting
  clawd.ops.coolify_deploy:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    tag: production
    wait: false
'''

RETURN = r'''
deployment_uuid:
  description: UUID of the deployment (a list of them with O(tag)); null when nothing was deployed.
  returned: always
  type: raw
  sample: zwkcc8s0g8g04wc8w8so4c44
status:
  description: Last status of the deployment (the worst one with O(tag)), V(skipped) when nothing was deployed.
  returned: always
  type: str
  sample: finished
commit:
  description: Commit (or image tag) that was deployed or would be.
  returned: always
  type: str
  sample: 3f2a9c1e5b7d4c0a8e6f1b2d3c4a5e6f7a8b9c0d
duration:
  description: Seconds the deployment took, from queued to its end, when known (the longest one with O(tag)).
  returned: always
  type: float
  sample: 42.5
message:
  description: What happened, in one sentence.
  returned: always
  type: str
  sample: Deployment zwkcc8s0g8g04wc8w8so4c44 of application web finished.
would_deploy:
  description: The plan; V(mode) is V(deploy), V(rollback) or V(skip), V(method) how (V(deploy), V(rollback_api), V(none)).
  returned: always
  type: dict
  sample: {"mode": "rollback", "commit": "3f2a9c1e", "method": "rollback_api", "update": {}, "applications": ["web"]}
application:
  description: The application after the deployment (status, fqdn, git_commit_sha...); with O(tag), empty.
  returned: always
  type: dict
  sample: {"uuid": "vgsco4o8k0wgsk4ok0gc0s0g", "name": "web", "status": "running:healthy", "git_commit_sha": "HEAD"}
deployments:
  description: Each deployment as last seen (without the raw logs), with its C(duration).
  returned: always
  type: list
  elements: dict
cancelled:
  description:
    - UUIDs of the deployments this task cancelled because the wait timed out or following them failed (O(cancel_on_timeout)).
  returned: always
  type: list
  elements: str
  sample: [zwkcc8s0g8g04wc8w8so4c44]
logs_tail:
  description: Last lines of the failed deployment's log (hidden entries left out); empty without C(read:sensitive).
  returned: failure
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _coolify as cf
from ansible_collections.clawd.ops.plugins.module_utils._transport import fail_with, require_requests


def restore_fields(client, app, plan, name):
    """After a cancel, set back the fields this task changed (the pinned commit or image tag), so that no later
    deployment in Coolify (a webhook, a click) builds the target nobody verified. Returns a clause for the message."""
    if app is None or not plan['update']:
        return ''
    before = dict((key, app.get(key)) for key in plan['update'] if app.get(key) is not None)
    if not before:
        return ''
    said = ', '.join('%s back to %s' % (key, before[key]) for key in sorted(before))
    try:
        client.update_application(app['uuid'], before, name=name)
    except cf.CoolifyError as exc:
        return '; could not set %s (%s): the application stays pinned to the cancelled target' % (said, exc)
    return '; set %s' % said


def run(module, client):
    params = module.params
    result = {'changed': False, 'deployment_uuid': None, 'status': 'skipped', 'duration': None, 'application': {}, 'deployments': [],
              'cancelled': []}
    app = None
    if params['uuid']:
        app = client.application(params['uuid'])
        name = app.get('name') or params['uuid']
        plan = cf.plan_deploy(client, app, commit=params['commit'], docker_tag=params['docker_tag'], rollback=params['rollback'],
                              redeploy=params['redeploy'], history_size=params['history_size'])
    else:
        apps = client.applications(tag=params['tag'])
        name = 'tagged %s' % params['tag']
        plan = {'mode': 'deploy', 'commit': 'HEAD', 'method': 'deploy', 'update': {}, 'applications': [a.get('name') for a in apps]}
    result.update(would_deploy=dict((k, plan[k]) for k in ('mode', 'commit', 'method', 'update', 'applications')), commit=plan['commit'])
    result['changed'] = plan['mode'] != 'skip' or bool(plan['update'])
    if app is not None:
        field = next(iter(plan['update']), 'docker_registry_image_tag' if app.get('build_pack') == 'dockerimage' else 'git_commit_sha')
        result['diff'] = {'before': {field: app.get(field)}, 'after': {field: plan['update'].get(field, app.get(field))}}
        if plan['mode'] != 'skip':
            result['diff']['after']['deploy'] = plan['commit']
        result['application'] = cf.summarize_application(app)
    if module.check_mode:
        result['message'] = plan.get('message') or 'Would %s %s of application %s.' % (plan['mode'], plan['commit'], name)
        return result
    if plan['update']:
        client.update_application(app['uuid'], plan['update'], name=name)
    if plan['mode'] == 'skip':
        result['message'] = plan['message']
        return result
    if plan['method'] == 'rollback_api':
        queued = [client.rollback(app['uuid'], plan['commit'], name=name)]
    else:
        queued = client.deploy(uuid=params['uuid'], tag=params['tag'], force=params['force'])
    uuids = [q['deployment_uuid'] for q in queued if q.get('deployment_uuid')]
    result['deployment_uuid'] = (uuids[0] if uuids else None) if params['uuid'] else uuids
    if not uuids:
        result.update(status='queued', message='; '.join(str(q.get('message')) for q in queued) or 'Coolify queued nothing.')
        return result
    if not params['wait']:
        result.update(status='queued', message='Deployment %s of application %s queued.' % (', '.join(uuids), name))
        return result
    try:
        seen, dummy = client.wait_for(uuids, params['wait_timeout'], params['poll_interval'], params['poll_max_interval'])
        lost = None
    except cf.CoolifyError as exc:  # polling failed: the deployment may still run, and go live later
        seen, lost = {}, str(exc)
    last = dict((u, seen[u].get('status') if u in seen else 'unknown') for u in uuids)
    unfinished = [u for u in uuids if last[u] not in cf.TERMINAL_STATUSES]
    problems = []
    if unfinished and params['cancel_on_timeout']:
        result['cancelled'], problems = client.cancel_unfinished(unfinished, seen)
    for uuid in uuids:
        seen.setdefault(uuid, {'deployment_uuid': uuid, 'status': 'unknown'})
    result['deployments'] = [cf.summarize_deployment(seen[u]) for u in uuids]
    if app is not None:
        try:
            result['application'] = cf.summarize_application(client.application(app['uuid']))
        except cf.CoolifyError:
            if lost is None:
                raise
    durations = [d['duration'] for d in result['deployments'] if d['duration'] is not None]
    result['duration'] = max(durations) if durations else None
    order = ('unknown', 'failed', 'cancelled-by-user', 'in_progress', 'queued', 'finished')
    worst = min(result['deployments'], key=lambda d: order.index(d.get('status')) if d.get('status') in order else 0)
    result['status'] = worst.get('status')
    if params['uuid'] and worst.get('commit'):
        result['commit'] = worst['commit']
    who = '%s of application %s' % (worst.get('deployment_uuid'), worst.get('application_name') or name)
    if unfinished and (result['cancelled'] or problems or result['status'] not in cf.TERMINAL_STATUSES):
        which = ', '.join('%s (last status %s)' % (u, last[u]) for u in unfinished)
        if lost is None:
            what = 'Timed out after %d seconds waiting for deployment %s of application %s' % (params['wait_timeout'], which, name)
        else:
            what = 'Lost track of deployment %s of application %s: %s' % (which, name, lost)
        if not params['cancel_on_timeout']:
            outcome = 'it was not cancelled (cancel_on_timeout=false) and may still go live'
        elif problems:
            outcome = 'could not cancel it, so it may still go live: %s' % '; '.join(problems)
        else:
            outcome = 'cancelled it (%s)' % ', '.join(result['cancelled'])
            outcome += restore_fields(client, app, plan, name)
        fail_with(module, msg='%s; %s.' % (what, outcome), **result)
    if result['status'] in cf.FAILED_STATUSES:
        deployment = seen[worst['deployment_uuid']]
        result['logs_tail'] = cf.logs_tail(deployment.get('logs'), params['logs_tail_lines'])
        if result['logs_tail']:
            cause = cf.failure_line(deployment.get('logs'))
        elif 'logs' not in deployment:
            cause = '%s (%s)' % (result['status'], cf.LOGS_NEED_SENSITIVE)
        else:
            cause = result['status']
        fail_with(module, msg='Deployment %s failed: %s' % (who, cause), **result)
    result['message'] = 'Deployment %s %s.' % (who if len(uuids) == 1 else ', '.join(uuids) + ' of applications ' + name, result['status'])
    return result


def main():
    argument_spec = cf.coolify_argument_spec()
    argument_spec.update(
        uuid=dict(type='str'),
        tag=dict(type='str'),
        force=dict(type='bool', default=False),
        commit=dict(type='str'),
        docker_tag=dict(type='str'),
        rollback=dict(type='str'),
        history_size=dict(type='int', default=20),
        redeploy=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=600),
        poll_interval=dict(type='float', default=2),
        poll_max_interval=dict(type='float', default=10),
        logs_tail_lines=dict(type='int', default=30),
        cancel_on_timeout=dict(type='bool', default=True),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('uuid', 'tag'), ('commit', 'docker_tag', 'rollback')],
        required_one_of=[('uuid', 'tag')],
        required_by={'commit': 'uuid', 'docker_tag': 'uuid', 'rollback': 'uuid'},
        supports_check_mode=True,
    )
    require_requests(module)
    params = module.params
    if params['wait_timeout'] < 0 or params['poll_interval'] <= 0 or params['poll_max_interval'] < params['poll_interval']:
        module.fail_json(msg='wait_timeout must be 0 or more, poll_interval more than 0 and poll_max_interval at least poll_interval')
    if params['history_size'] < 1 or params['logs_tail_lines'] < 0:
        module.fail_json(msg='history_size must be 1 or more and logs_tail_lines 0 or more')
    cf.CoolifyClient.run_module(module, lambda client: run(module, client))


if __name__ == '__main__':
    main()
