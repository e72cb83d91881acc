# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: upgrade_workflow
short_description: The nodes of an AWX workflow that runs the staged upgrade with an approval before each wave
version_added: 0.1.0
description:
  - Builds the C(workflow_nodes) of M(awx.awx.workflow_job_template) for the staged upgrade - the staging stage first,
    then for each production wave an approval node followed by the upgrade job template limited to that wave's hosts.
  - Each wave job runs with C(upgrade_stage=production), C(upgrade_approval=none) (the approval node decides) and
    C(upgrade_waves=['100%']) (the wave is the node's limit). A failed job or a denied or timed-out approval ends the
    workflow there; the upgrade role has then already rolled the wave back and frozen the fleet.
  - AWX can only fail an approval that times out (there is no default outcome).
author:
  - clawd.ops team (@clawd-ops)
options:
  _input:
    description: The host pattern (inventory group) of each production wave, in order, for example V([wave1, wave2, wave3]).
    type: list
    elements: str
    required: true
  job_template:
    description: The job template that runs C(playbooks/upgrade.yml); it must prompt for variables and limit on launch.
    type: str
    required: true
  staging_limit:
    description: The host pattern of the staging hosts; empty leaves the staging node out.
    type: str
    default: staging
  approval_timeout:
    description: Seconds an approval waits before it times out (and fails the workflow); 0 waits for ever.
    type: int
    default: 3600
'''

EXAMPLES = r'''
- name: Create the staged upgrade workflow
  awx.awx.workflow_job_template:
    name: clawd.ops upgrade (staged)
    organization: Default
    workflow_nodes: "{{ ['wave1', 'wave2', 'wave3'] | clawd.ops.upgrade_workflow(job_template='clawd.ops upgrade') }}"
'''

RETURN = r'''
_value:
  description: The workflow nodes, each with its C(identifier), C(unified_job_template) and the C(success_nodes) it leads to.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError


def _job_node(identifier, job_template, limit, extra_data, next_identifier):
    return {
        'identifier': identifier,
        'unified_job_template': {'name': job_template, 'type': 'job_template'},
        'limit': limit,
        'extra_data': extra_data,
        'related': {'success_nodes': [{'identifier': next_identifier}] if next_identifier else []},
    }


def _approval_node(identifier, name, timeout, next_identifier):
    return {
        'identifier': identifier,
        'unified_job_template': {'name': name, 'type': 'workflow_approval', 'timeout': timeout,
                                 'description': 'Approve or deny the next wave of the clawd.ops upgrade.'},
        'related': {'success_nodes': [{'identifier': next_identifier}]},
    }


def upgrade_workflow(waves, job_template, staging_limit='staging', approval_timeout=3600):
    """The workflow nodes: staging, then (approval, wave) per production wave, each leading to the next on success."""
    waves = [str(wave).strip() for wave in (waves or [])]
    if not waves or not all(waves):
        raise AnsibleFilterError('upgrade_workflow: give the host pattern of each production wave, got %r' % (waves,))
    if not job_template:
        raise AnsibleFilterError('upgrade_workflow: job_template is required')
    if int(approval_timeout) < 0:
        raise AnsibleFilterError('upgrade_workflow: approval_timeout must be 0 or more, got %r' % (approval_timeout,))
    nodes = []
    if staging_limit:
        nodes.append(_job_node('staging', job_template, staging_limit, {'upgrade_stage': 'staging'}, 'approve-wave-1'))
    for number, limit in enumerate(waves, 1):
        following = 'approve-wave-%d' % (number + 1) if number < len(waves) else None
        name = '%s: approve wave %d of %d (%s)' % (job_template, number, len(waves), limit)
        nodes.append(_approval_node('approve-wave-%d' % number, name, int(approval_timeout), 'wave-%d' % number))
        production = {'upgrade_stage': 'production', 'upgrade_approval': 'none', 'upgrade_waves': ['100%']}
        nodes.append(_job_node('wave-%d' % number, job_template, limit, production, following))
    return nodes


class FilterModule(object):
    """The staged upgrade as an AWX workflow."""

    def filters(self):
        return {'upgrade_workflow': upgrade_workflow}
