# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The staged upgrade's AWX workflow nodes: staging, then an approval before each production wave."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.filter.upgrade_workflow import upgrade_workflow


def by_id(nodes):
    return dict((node['identifier'], node) for node in nodes)


def follow(nodes, start):
    """The identifiers met from ``start`` along the success links (the only path through the workflow)."""
    index, path = by_id(nodes), [start]
    while index[path[-1]]['related']['success_nodes']:
        (following,) = index[path[-1]]['related']['success_nodes']
        path.append(following['identifier'])
    return path


def test_staging_then_an_approval_before_every_wave():
    nodes = upgrade_workflow(['wave1', 'wave2', 'wave3'], job_template='clawd.ops upgrade', approval_timeout=600)
    assert follow(nodes, 'staging') == ['staging', 'approve-wave-1', 'wave-1', 'approve-wave-2', 'wave-2', 'approve-wave-3', 'wave-3']
    index = by_id(nodes)
    assert len(index) == len(nodes), 'identifiers must be unique within the workflow'
    assert index['staging']['extra_data'] == {'upgrade_stage': 'staging'} and index['staging']['limit'] == 'staging'
    for number, limit in enumerate(['wave1', 'wave2', 'wave3'], 1):
        wave, approval = index['wave-%d' % number], index['approve-wave-%d' % number]
        assert wave['limit'] == limit
        assert wave['extra_data'] == {'upgrade_stage': 'production', 'upgrade_approval': 'none', 'upgrade_waves': ['100%']}
        assert wave['unified_job_template'] == {'name': 'clawd.ops upgrade', 'type': 'job_template'}
        assert approval['unified_job_template']['type'] == 'workflow_approval'
        assert approval['unified_job_template']['timeout'] == 600
        assert '%d of 3 (%s)' % (number, limit) in approval['unified_job_template']['name']


def test_no_failure_path_continues_the_rollout():
    for node in upgrade_workflow(['a', 'b'], job_template='up'):
        assert set(node['related']) == {'success_nodes'}


def test_the_waves_do_not_share_their_extra_data():
    nodes = by_id(upgrade_workflow(['a', 'b'], job_template='up'))
    nodes['wave-1']['extra_data']['upgrade_waves'].append('50%')
    assert nodes['wave-2']['extra_data']['upgrade_waves'] == ['100%']


def test_without_staging_the_first_approval_starts_the_workflow():
    nodes = upgrade_workflow(['a'], job_template='up', staging_limit='')
    assert [node['identifier'] for node in nodes] == ['approve-wave-1', 'wave-1']
    assert follow(nodes, 'approve-wave-1') == ['approve-wave-1', 'wave-1']


@pytest.mark.parametrize('waves, kwargs, message', [
    ([], {'job_template': 'up'}, 'host pattern of each production wave'),
    (['a', ' '], {'job_template': 'up'}, 'host pattern of each production wave'),
    (['a'], {'job_template': ''}, 'job_template is required'),
    (['a'], {'job_template': 'up', 'approval_timeout': -1}, 'approval_timeout must be 0 or more'),
])
def test_bad_input_is_named(waves, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        upgrade_workflow(waves, **kwargs)
