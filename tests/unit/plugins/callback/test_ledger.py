# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger callback driven by hand with small stand-ins for Ansible's playbook, play, result and stats objects."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest
import yaml

from ansible import constants, context
from ansible.executor.stats import AggregateStats

from ansible_collections.clawd.ops.plugins.callback import ledger

SECRET = 'S3cr3t-extra-var-value'


class Obj(object):
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class Display(object):
    verbosity = 0

    def __init__(self):
        self.warnings = []

    def warning(self, msg):
        self.warnings.append(msg)

    def vvv(self, msg):
        pass


def make_plugin(display, path=None):
    """The plugin as Ansible's loader makes it: its options declared to the config manager from DOCUMENTATION."""
    name = 'clawd.ops.ledger'
    if not constants.config.has_configuration_definition('callback', name):
        options = yaml.safe_load(ledger.DOCUMENTATION)['options']
        constants.config.initialize_plugin_configuration_definitions('callback', name, options)
    plugin = ledger.CallbackModule(display=display)
    plugin._load_name = name
    plugin.set_options(direct={'path': path} if path else None)
    return plugin


def failed_result(host, task_name, msg, no_log=False):
    task = Obj(no_log=no_log, get_name=lambda: task_name)
    return Obj(_task=task, _result={'msg': msg, 'failed': True}, task_name=task_name, _host=Obj(get_name=lambda: host))


@pytest.fixture
def callback(tmp_path, monkeypatch):
    monkeypatch.delenv('CLAWD_RUN_ID', raising=False)
    monkeypatch.setattr(context, 'CLIARGS', {'check': True, 'tags': ('deploy',), 'skip_tags': (), 'subset': 'vps1'})
    return make_plugin(Display(), str(tmp_path / 'ledger.jsonl'))


def drive(plugin, extra_vars=None):
    plugin.v2_playbook_on_start(Obj(_file_name='/work/playbooks/deploy.yml'))
    manager = Obj(extra_vars=extra_vars or {})
    plugin.v2_playbook_on_play_start(Obj(get_name=lambda: 'Deploy', get_variable_manager=lambda: manager))
    stats = AggregateStats()
    stats.increment('ok', 'vps1')
    stats.increment('changed', 'vps1')
    stats.increment('ok', 'vps2')
    return stats


def records(tmp_path):
    with open(str(tmp_path / 'ledger.jsonl')) as handle:
        return [json.loads(line) for line in handle]


def test_successful_run_is_recorded(callback, tmp_path, monkeypatch):
    stats = drive(callback, {'deploy_version': '1.4.2'})
    callback.v2_playbook_on_stats(stats)
    (record,) = records(tmp_path)
    assert record['kind'] == 'playbook' and record['result'] == 'ok'
    assert record['playbook'] == '/work/playbooks/deploy.yml'
    assert record['run_id'] == callback.run_id and len(record['run_id']) == 36
    assert record['check_mode'] is True and record['tags'] == ['deploy'] and record['limit'] == 'vps1'
    assert record['extra_var_names'] == ['deploy_version']
    assert '1.4.2' not in json.dumps(record)
    assert record['hosts']['vps1'] == {'ok': 1, 'changed': 1, 'failed': 0, 'unreachable': 0, 'skipped': 0, 'rescued': 0, 'ignored': 0}
    assert record['plays'] == ['Deploy'] and record['failed_tasks'] == []
    assert record['ledger_version'] == 1 and record['duration'] >= 0


def test_failed_task_is_recorded_redacted_and_truncated(callback, tmp_path):
    stats = drive(callback, {'api_token': SECRET})
    callback.v2_runner_on_failed(failed_result('vps1', 'Call the API', 'refused %s %s' % (SECRET, 'x' * 400)))
    callback.v2_runner_on_failed(failed_result('vps1', 'Ignored', 'whatever'), ignore_errors=True)
    callback.v2_runner_on_failed(failed_result('vps2', 'Secret task', 'token=%s' % SECRET, no_log=True))
    stats.increment('failures', 'vps1')
    callback.v2_playbook_on_stats(stats)
    (record,) = records(tmp_path)
    assert record['result'] == 'failed'
    assert [(t['task'], t['host']) for t in record['failed_tasks']] == [('Call the API', 'vps1'), ('Secret task', 'vps2')]
    assert record['failed_tasks'][0]['msg'].startswith('refused *** xxx')
    assert len(record['failed_tasks'][0]['msg']) == 300
    assert record['failed_tasks'][1]['msg'] == 'the output has been hidden due to no_log: true'
    assert SECRET not in open(str(tmp_path / 'ledger.jsonl')).read()


def test_run_id_is_exported_and_taken_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('CLAWD_RUN_ID', 'awx-job-42')
    plugin = ledger.CallbackModule(display=Display())
    assert plugin.run_id == 'awx-job-42'
    monkeypatch.delenv('CLAWD_RUN_ID')
    plugin = ledger.CallbackModule(display=Display())
    plugin.v2_playbook_on_start(Obj(_file_name='site.yml'))
    assert os.environ['CLAWD_RUN_ID'] == plugin.run_id


def test_a_ledger_that_cannot_be_written_only_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(context, 'CLIARGS', {})
    blocker = tmp_path / 'file'
    blocker.write_text('')
    display = Display()
    plugin = make_plugin(display, str(blocker / 'ledger.jsonl'))
    plugin.v2_playbook_on_stats(AggregateStats())  # no exception
    assert len(display.warnings) == 1
    assert display.warnings[0].startswith('clawd.ops.ledger: could not write the run ledger (the run goes on): Failed to open the ledger')
    plugin.v2_runner_on_failed(Obj())  # a result without the expected attributes: a warning, never an exception
    assert len(display.warnings) == 2


def test_path_comes_from_clawd_ledger_path(tmp_path, monkeypatch):
    monkeypatch.setattr(context, 'CLIARGS', {})
    monkeypatch.setenv('CLAWD_LEDGER_PATH', str(tmp_path / 'from-env.jsonl'))
    plugin = make_plugin(Display())
    plugin.v2_playbook_on_stats(AggregateStats())
    assert records_at(tmp_path / 'from-env.jsonl')[0]['kind'] == 'playbook'


def records_at(path):
    with open(str(path)) as handle:
        return [json.loads(line) for line in handle]


AWX_JOB = {'awx_job_id': 42, 'awx_job_template_name': 'clawd deploy', 'awx_user_name': 'alice',
           'awx_schedule_name': 'weekday mornings', 'awx_job_launch_type': 'scheduled'}


def test_an_awx_job_is_named_and_exported_to_the_modules(callback, tmp_path, monkeypatch):
    monkeypatch.delenv('CLAWD_RUN_BY', raising=False)
    stats = drive(callback, dict(AWX_JOB, deploy_version='1.4.2'))
    exported = json.loads(os.environ['CLAWD_RUN_BY'])
    callback.v2_playbook_on_stats(stats)
    (record,) = records(tmp_path)
    assert record['run_by'] == exported
    assert record['run_by']['via'] == 'awx' and record['run_by']['user'] == 'alice'
    assert record['run_by']['awx']['job_id'] == 42 and record['run_by']['awx']['schedule_name'] == 'weekday mornings'
    assert record['who'] == "alice via AWX job 42 'clawd deploy'"
    monkeypatch.delenv('CLAWD_RUN_BY')


def test_a_terminal_run_names_the_controller_user(callback, tmp_path, monkeypatch):
    monkeypatch.delenv('CLAWD_RUN_BY', raising=False)
    callback.v2_playbook_on_stats(drive(callback))
    (record,) = records(tmp_path)
    assert record['run_by']['via'] == 'controller' and record['run_by']['user'] == ledger._user()
    assert record['who'] == '%s@%s' % (ledger._user(), record['controller'])
    monkeypatch.delenv('CLAWD_RUN_BY')


def test_each_run_is_also_an_s3_object_even_when_the_file_cannot_be_written(tmp_path, monkeypatch):
    boto3 = pytest.importorskip('boto3')
    moto = pytest.importorskip('moto')
    for name, value in (('AWS_ACCESS_KEY_ID', 'testing'), ('AWS_SECRET_ACCESS_KEY', 'testing'), ('AWS_DEFAULT_REGION', 'us-east-1')):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv('AWS_ENDPOINT_URL', raising=False)
    monkeypatch.setattr(context, 'CLIARGS', {})
    monkeypatch.setenv('CLAWD_LEDGER_S3_URL', 's3://ledger/clawd')
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with moto.mock_aws():
        s3 = boto3.client('s3', region_name='us-east-1')
        s3.create_bucket(Bucket='ledger')
        display = Display()
        plugin = make_plugin(display, str(blocker / 'ledger.jsonl'))
        plugin.v2_playbook_on_stats(drive(plugin, dict(AWX_JOB, api_token=SECRET)))
        keys = [item['Key'] for item in s3.list_objects_v2(Bucket='ledger')['Contents']]
        assert len(keys) == 1 and keys[0].startswith('clawd/') and '-playbook-' in keys[0]
        body = s3.get_object(Bucket='ledger', Key=keys[0])['Body'].read().decode('utf-8')
    assert json.loads(body)['run_by']['awx']['job_id'] == 42
    assert SECRET not in body
    assert [w.split(':')[1].strip() for w in display.warnings] == ['could not write the run ledger (the run goes on)']
    monkeypatch.delenv('CLAWD_RUN_BY', raising=False)
