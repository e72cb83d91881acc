# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment as AWX runs it (issue 17, items 1-3).

Every playbook runs with `scripts/ee run` in a fresh EE container (ansible-navigator, --mode stdout) against the
lab hosts over SSH; nothing is carried from one run to the next but what the hosts and S3 keep. The image is
built by `scripts/ee build` (a CI step before this one); a missing image is built here.
"""

import json
import os
import re
import subprocess
import uuid

import pytest

from conftest import ROOT, secret

IMAGE = os.environ.get('CLAWD_EE_IMAGE', 'clawd-ops-ee:latest')
BUCKET = 'clawd-ee-ledger'
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
DEPLOY_JOB = {'awx_job_id': '4201', 'awx_job_template_name': 'clawd deploy', 'awx_user_name': 'alice',
              'awx_job_launch_type': 'manual'}
ROLLBACK_JOB = {'awx_job_id': '4202', 'awx_job_template_name': 'clawd rollback', 'awx_schedule_name': 'drill on sunday',
                'awx_job_launch_type': 'scheduled'}


def docker(*args, check=True):
    return subprocess.run(['docker'] + list(args), capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture(scope='module')
def image():
    if docker('image', 'inspect', IMAGE, check=False).returncode != 0:
        build = subprocess.run([os.path.join(ROOT, 'scripts', 'ee'), 'build'], cwd=ROOT, capture_output=True, text=True,
                               timeout=1800, check=False)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return IMAGE


@pytest.fixture(scope='module')
def ledger():
    """The S3 copy of the ledger, under a prefix of this test run only."""
    boto3 = pytest.importorskip('boto3')
    client = boto3.client('s3', endpoint_url='http://127.0.0.1:%s' % os.environ.get('CLAWD_PORT_S3', '17004'),
                          aws_access_key_id=secret('s3_access_key'), aws_secret_access_key=secret('s3_secret_key'),
                          region_name='us-east-1')
    if BUCKET not in [bucket['Name'] for bucket in client.list_buckets()['Buckets']]:
        client.create_bucket(Bucket=BUCKET)
    prefix = 'ee-%s' % uuid.uuid4().hex[:12]

    class Ledger:
        url = 's3://%s/%s' % (BUCKET, prefix)

        @staticmethod
        def records():
            listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + '/').get('Contents') or []
            return [json.loads(client.get_object(Bucket=BUCKET, Key=item['Key'])['Body'].read()) for item in listed]

    return Ledger()


def ee(playbook, *args, ledger=None, extra=None, check=True):
    """scripts/ee run PLAYBOOK: one fresh EE container; returns the output, the play recap asserted clean."""
    env = dict(os.environ)
    if ledger is not None:
        env['CLAWD_EE_LEDGER_S3_URL'] = ledger.url
    command = [os.path.join(ROOT, 'scripts', 'ee'), 'run', playbook] + list(args)
    if extra:
        command += ['-e', json.dumps(extra)]  # as JSON: AWX's values hold spaces
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900, check=False,
                            stdin=subprocess.DEVNULL)
    output = result.stdout + result.stderr
    if check:
        recap = RECAP.findall(output)
        assert result.returncode == 0 and recap, '%s failed (%d):\n%s' % (playbook, result.returncode, output[-5000:])
        assert all(r[3] == '0' and r[4] == '0' for r in recap), output[-5000:]
    return output


def workspace(host):
    """The workspace volume's folder of a lab host (the lab's engine is this machine's)."""
    return docker('volume', 'inspect', '-f', '{{.Mountpoint}}', host.name + '-workspace').stdout.strip()


def test_the_image_holds_the_collection_its_collections_and_their_needs(image):
    script = ('ansible-galaxy collection list --format json; '
              'python3 -c "import docker, requests, zstandard, boto3, ansible_runner"; command -v ssh; '
              'test ! -e /usr/local/share/ca-certificates/clawd-build-network.crt')
    result = docker('run', '--rm', '--network', 'host', image, 'bash', '-c', script, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    listed = {}
    for part in json.loads(result.stdout.split('\n/usr/bin/ssh')[0]).values():
        listed.update(part)
    for name in ('clawd.ops', 'amazon.aws', 'ansible.posix', 'community.docker', 'community.general'):
        assert name in listed, name
    config = docker('image', 'inspect', '-f', '{{json .Config.Env}}', image).stdout
    assert 'ANSIBLE_CALLBACKS_ENABLED=clawd.ops.ledger' in json.loads(config)


def test_daily_checks_run_in_the_ee(image, hosts):
    # The backup runs in the EE in the rollback test below: the deploy takes one before the release changes.
    assert "Judge every host's measurements" in ee('daily_checks')


def test_full_rollback_across_two_fresh_ee_containers_restores_the_right_backup(image, hosts, ledger):
    lab1 = hosts[0]
    limit = ['--limit', 'clawd-' + lab1.name]
    # The release that runs now, with its data.
    status, body = lab1.https('GET', '/version')
    assert status == 200, body
    first = json.loads(body)['commit']
    data = os.path.join(workspace(lab1), 'data.txt')
    marker = 'written by %s (%s)\n' % (first, uuid.uuid4().hex)
    with open(data, 'w') as handle:
        handle.write(marker)
    # Release 2 replaces it (the deploy backs up the running release's data first), from an AWX job, then changes the data.
    second = subprocess.run([os.path.join(ROOT, 'scripts', 'lab'), 'release', '2.0.0-ee'], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip().splitlines()[-1]
    output = ee('deploy', *limit, ledger=ledger, extra=dict(DEPLOY_JOB, deploy_commit=second, deploy_release_version='2.0.0-ee'))
    assert 'Create the archive' in output  # the backup before the release changes
    with open(data, 'w') as handle:
        handle.write('migrated by 2.0.0-ee\n')
    # A second fresh container, without the first one's ledger: the host's archive manifests pair the backup.
    output = ee('rollback', *limit, ledger=ledger, extra=dict(ROLLBACK_JOB, rollback_mode='full'))
    assert 'Restore the backup of that release' in output
    with open(data) as handle:
        assert handle.read() == marker
    status, body = lab1.https('GET', '/version')
    assert status == 200 and json.loads(body)['commit'] == first

    # Who ran it: the records both jobs left in S3 name the AWX job, its template and its user or schedule.
    records = ledger.records()
    deploy = [r for r in records if r.get('kind') == 'deploy']
    rollback = [r for r in records if r.get('kind') == 'rollback']
    playbooks = [r for r in records if r.get('kind') == 'playbook']
    assert len(deploy) == 1 and len(rollback) == 1 and len(playbooks) == 2, records
    assert deploy[0]['run_by']['awx'] == {'job_id': '4201', 'job_template_name': 'clawd deploy', 'user_name': 'alice',
                                          'job_launch_type': 'manual'}
    assert deploy[0]['commit'] == second and deploy[0]['previous_commit'] == first
    assert rollback[0]['run_by']['who'] == "schedule 'drill on sunday' via AWX job 4202 'clawd rollback'"
    assert rollback[0]['commit'] == first and rollback[0]['backup_id'] and rollback[0]['result'] == 'ok'
    assert sorted(r['run_by']['awx']['job_id'] for r in playbooks) == ['4201', '4202']
    assert {r['who'] for r in playbooks} == {"alice via AWX job 4201 'clawd deploy'",
                                             "schedule 'drill on sunday' via AWX job 4202 'clawd rollback'"}
