# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario deploy: what the good release, the bad ones and the gates left behind."""

import json
import os

import requests

testinfra_hosts = ['all']  # pylint: disable=invalid-name

NAME = 'molecule-deploy'
STATE = os.environ['CLAWD_STATE']
HOST_DIR = os.path.join(STATE, 'hosts', NAME)
ADDRESS = os.environ.get('CLAWD_MOLECULE_ADDRESS', '127.0.1.201')
COOLIFY = 'http://127.0.0.1:%s/api/v1' % os.environ.get('CLAWD_PORT_COOLIFY', '17001')


def read_json(name):
    with open(os.path.join(HOST_DIR, name), encoding='utf-8') as handle:
        return json.load(handle)


def secret(name):
    with open(os.path.join(STATE, 'secrets', name), encoding='utf-8') as handle:
        return handle.read().strip()


def ledger():
    with open(os.path.join(HOST_DIR, 'ledger.jsonl'), encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]


def deploys():
    return [r for r in ledger() if r.get('kind') == 'deploy']


def served(host):
    """The /version the app answers through its TLS proxy, asked from the lab host."""
    cmd = host.run(
        "python3 -c \"import json, ssl, urllib.request as u; "
        "c = ssl.create_default_context(cafile='%s/tls/ca.crt'); "
        "print(u.urlopen('https://%s.clawd.test/version', context=c, timeout=5).read().decode())\"" % (HOST_DIR, NAME))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_the_good_release_serves_again_after_every_bad_one(host):
    releases = read_json('releases.json')
    version = served(host)
    assert version['version'] == '1.1.0'
    assert version['commit'] == releases['good']


def test_broken_release_failed_in_coolify_and_never_replaced_the_running_one():
    outcome = read_json('outcomes.json')['broken']
    releases = read_json('releases.json')
    assert 'failed' in outcome and 'The previous release %s kept serving (ok)' % releases['good'] in outcome, outcome
    record = [r for r in deploys() if r['commit'] == releases['broken']][-1]
    assert record['result'] == 'failed'
    assert record['previous_commit'] == releases['good']


def test_decaying_and_noisy_releases_were_rolled_back_by_the_watch_window():
    outcomes = read_json('outcomes.json')
    releases = read_json('releases.json')
    assert 'health' in outcomes['decaying'] and 'Rolled back to %s' % releases['good'] in outcomes['decaying'], outcomes['decaying']
    assert 'errors' in outcomes['noisy'] and 'Rolled back to %s' % releases['good'] in outcomes['noisy'], outcomes['noisy']
    for kind in ('decaying', 'noisy'):
        # The first deployment of each (the noisy release is deployed once more, to a Coolify slower than the wait).
        record = [r for r in deploys() if r['commit'] == releases[kind]][0]
        assert record['result'] == 'rolled_back', record
        assert float(record['rollback_seconds']) > 0, record


def test_a_deployment_slower_than_the_wait_was_cancelled_and_the_old_release_kept_serving():
    """Issue 11 item 4: cancelled in Coolify, the release that ran before checked to serve, then the lock released."""
    outcomes = read_json('outcomes.json')
    releases = read_json('releases.json')
    outcome = outcomes['slow']
    assert 'Timed out after 0 seconds waiting for deployment' in outcome and '; cancelled it (' in outcome, outcome
    assert 'The previous release %s kept serving (ok)' % releases['good'] in outcome, outcome
    assert outcomes['slow_lock_left'] is False
    record = [r for r in deploys() if r['commit'] == releases['noisy']][-1]
    assert record['result'] == 'failed' and record['deployment_uuid'], record
    assert 'Cancelled Coolify deployment %s.' % record['deployment_uuid'] in outcome, outcome
    answer = requests.get('%s/deployments/%s' % (COOLIFY, record['deployment_uuid']), timeout=10,
                          headers={'Authorization': 'Bearer %s' % secret('coolify_api_token')})
    assert answer.status_code == 200 and answer.json()['status'] == 'cancelled-by-user', answer.text


def test_a_nested_rollback_renews_its_callers_lock_and_leaves_it_held():
    """Issue 11 item 3: the rollback role, called with the run id that holds the lock, does not release it."""
    held = read_json('outcomes.json')['nested_lock']
    assert held['run_id'] == 'outer-run' and held['owner'] == 'outer@controller' and held['purpose'] == 'deploy', held
    assert held['renewed_at'] >= held['taken_at'] and held['expires_at'] > held['renewed_at'], held


def test_gates_refused_with_their_reasons():
    outcomes = read_json('outcomes.json')
    assert 'held by someone-else@elsewhere (run concurrent-run, deploy) since ' in outcomes['locked'], outcomes['locked']
    assert ', until ' in outcomes['locked'], outcomes['locked']
    assert 'outside the deploy window' in outcomes['window'], outcomes['window']
    assert 'deploy_override_reason' in outcomes['window']
    refused = [r for r in deploys() if r['result'] == 'refused']
    assert len(refused) == 2, refused
    overridden = [r for r in deploys() if r.get('override_reason')]
    assert overridden and overridden[-1]['result'] in ('ok', 'unchanged')
    assert overridden[-1]['gates']['window'].startswith('overridden: hotfix')


def test_the_good_deploy_is_recorded_with_its_backup_and_gates():
    releases = read_json('releases.json')
    good = [r for r in deploys() if r['commit'] == releases['good'] and r['result'] == 'ok'][0]
    assert good['backup_id'].startswith('claudebox-') and good['backup_id'].endswith('.tar.zst')
    assert good['deployment_uuid']
    assert good['gates']['lock'] == 'taken' and good['gates']['backup'].startswith('verified ')
    assert good['version'] == '1.1.0' and good['who']


def test_the_ledger_holds_no_secret():
    with open(os.path.join(HOST_DIR, 'ledger.jsonl'), encoding='utf-8') as handle:
        text = handle.read()
    for name in ('coolify_api_token', 'telegram_bot_token', 'telegram_webhook_secret'):
        assert secret(name) not in text, name


def test_no_lock_is_left_behind(host):
    assert not host.file('/var/lib/clawd/deploy.lock').exists


def test_coolify_kept_the_failed_deployment_in_its_history():
    uuid = read_json('coolify-app.json')['uuid'] if os.access(os.path.join(HOST_DIR, 'coolify-app.json'), os.R_OK) else None
    assert uuid
    answer = requests.get('%s/deployments/applications/%s?take=50' % (COOLIFY, uuid), timeout=10,
                          headers={'Authorization': 'Bearer %s' % secret('coolify_api_token')})
    assert answer.status_code == 200
    statuses = [d['status'] for d in answer.json()['deployments']]
    assert 'failed' in statuses and 'cancelled-by-user' in statuses and statuses.count('finished') >= 4, statuses
