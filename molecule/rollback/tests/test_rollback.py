# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario rollback: release 1.0.0 serves again, with 1.0.0's data after the full rollback."""

import json
import os

testinfra_hosts = ['all']  # pylint: disable=invalid-name

NAME = 'molecule-rollback'
STATE = os.environ['CLAWD_STATE']
HOST_DIR = os.path.join(STATE, 'hosts', NAME)
BACKUPS = '/var/backups/clawd'


def read_json(name):
    with open(os.path.join(HOST_DIR, name), encoding='utf-8') as handle:
        return json.load(handle)


def ledger(kind):
    with open(os.path.join(HOST_DIR, 'ledger.jsonl'), encoding='utf-8') as handle:
        return [r for r in (json.loads(line) for line in handle if line.strip()) if r.get('kind') == kind]


def workspace(host):
    cmd = host.run("python3 -c \"import docker; print(docker.from_env().volumes.get('%s-workspace').attrs['Mountpoint'])\"" % NAME)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def served(host):
    cmd = host.run(
        "python3 -c \"import ssl, urllib.request as u; "
        "c = ssl.create_default_context(cafile='%s/tls/ca.crt'); "
        "print(u.urlopen('https://%s.clawd.test/version', context=c, timeout=5).read().decode())\"" % (HOST_DIR, NAME))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_release_1_serves_again(host):
    answer = served(host)
    assert answer['version'] == '1.0.0'
    assert answer['commit'] == read_json('releases.json')['first']


def test_full_rollback_brought_back_the_data_of_release_1(host):
    folder = workspace(host)
    assert host.file(folder + '/data.txt').content_string == 'written by 1.0.0\n'
    assert not host.file(folder + '/only-in-2.txt').exists


def test_the_safety_copy_holds_the_data_of_release_2(host):
    safety = [f for f in host.file(BACKUPS + '/safety').listdir() if f.endswith('.tar.zst')]
    assert len(safety) == 1, safety
    listing = host.run('tar --zstd -xOf %s/safety/%s volumes/workspace/data.txt' % (BACKUPS, safety[0]))
    assert listing.rc == 0, listing.stderr
    assert listing.stdout == 'migrated by 2.0.0\n'


def test_the_ledger_pairs_and_records_both_rollbacks():
    releases = read_json('releases.json')
    deploy = [r for r in ledger('deploy') if r['commit'] == releases['second']][-1]
    assert deploy['previous_commit'] == releases['first'] and deploy['backup_id'], deploy
    rollbacks = ledger('rollback')
    quick = [r for r in rollbacks if r['mode'] == 'quick']
    full = [r for r in rollbacks if r['mode'] == 'full']
    assert quick[0]['result'] == 'ok' and quick[0]['from_commit'] == releases['second'] and quick[0]['commit'] == releases['first']
    assert full[-1]['result'] == 'ok' and full[-1]['backup_id'] == deploy['backup_id'], full
