# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario incident_disk: the noisy release rolled back, the full disk freed safely, the unfixable fault escalated once."""

import glob
import hashlib
import json
import os
import re
import tarfile

testinfra_hosts = ['all']  # pylint: disable=invalid-name

NAME = 'molecule-incident_disk'
STATE = os.environ['CLAWD_STATE']
HOST_DIR = os.path.join(STATE, 'hosts', NAME)
COPIES = os.path.join(HOST_DIR, 'incidents')
HOST_INCIDENTS = '/var/lib/clawd/incidents'
SECRETS = ('coolify_api_token', 'telegram_webhook_secret', 'twilio_auth_token', 's3_secret_key')

# fault -> the one step that must have fixed it (and the only one that ran)
FIXED_BY = {
    'noisy_release': ['rollback_release'],
    'disk_full': ['reclaim_disk'],
}


def outcomes():
    with open(os.path.join(HOST_DIR, 'outcomes.json'), encoding='utf-8') as handle:
        return json.load(handle)


def secret(name):
    with open(os.path.join(STATE, 'secrets', name), encoding='utf-8') as handle:
        return handle.read().strip()


def secret_values():
    values = [secret(name) for name in SECRETS if os.path.exists(os.path.join(STATE, 'secrets', name))]
    return [v for v in values if v]


def record(incident_id):
    path = os.path.join(COPIES, 'clawd-' + NAME, incident_id, incident_id + '.json')
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def test_each_fault_was_fixed_by_its_own_step_and_nothing_before_it():
    out = outcomes()
    for fault, steps in FIXED_BY.items():
        assert not out[fault]['failed'], (fault, out[fault])
        assert out[fault]['steps'] == steps, (fault, out[fault])
        assert re.match(r'^INC-\d{8}-\d{3}$', out[fault]['id']), out[fault]


def test_every_incident_got_its_own_id():
    out = outcomes()
    ids = [out[f]['id'] for f in list(FIXED_BY) + ['broken_at_boot']]
    assert len(set(ids)) == len(ids), ids


def test_records_list_the_steps_in_order_and_the_verified_recovery():
    out = outcomes()
    times = {}
    for fault, steps in FIXED_BY.items():
        rec = record(out[fault]['id'])
        assert rec['status'] == 'resolved', rec
        assert [e['step'] for e in rec['timeline']] == ['open'] + steps + ['close'], rec['timeline']
        assert all(e['result'] == 'ok' for e in rec['timeline'] if e['step'] in steps), rec['timeline']
        assert rec['timeline'][1]['why'], rec['timeline']
        assert rec['recovery_seconds'] is not None and rec['recovery_seconds'] >= 0, rec
        assert rec['root_cause'] and rec['resolution'].startswith('Recovered by step %s' % steps[-1]), rec
        times[fault] = rec['recovery_seconds']
        note = os.path.join(COPIES, 'clawd-' + NAME, rec['id'], rec['id'] + '.md')
        with open(note, encoding='utf-8') as handle:
            text = handle.read()
        assert '# Post-incident report: %s' % rec['id'] in text and '## Action items' in text and '## Timeline (UTC)' in text
    with open(os.path.join(HOST_DIR, 'recovery_seconds.json'), 'w', encoding='utf-8') as handle:
        json.dump(times, handle, indent=2, sort_keys=True)


def test_the_disk_was_really_full_and_only_old_logs_and_archives_beyond_retention_went():
    out = outcomes()
    assert out['disk_filled'].strip().splitlines()[-1].split()[4] == '100%', out['disk_filled']
    left = [os.path.basename(p) for p in out['disk_left']]
    newest = 'claudebox-20261106T030000Z-1.0.0.tar.zst'
    assert newest in left and newest + '.sha256' in left, left
    assert 'app.log' in left, left  # the live log is not old
    assert 'claudebox-20261101T030000Z-1.0.0.tar.zst' not in left or 'app.log.1' not in left, left
    rec = record(out['disk_full']['id'])
    detail = rec['timeline'][1]['detail']
    assert 'build_cache' in detail and 'old_logs' in detail, detail


def test_the_unfixable_fault_was_escalated_once_and_the_deploy_gate_held():
    out = outcomes()
    broken = out['broken_at_boot']
    assert broken['failed'] and 'escalated to' in broken['msg'], broken
    assert broken['steps'] == ['restart_web_container'], broken  # one try, no loop
    assert broken['id'] in out['gate_refused'] and 'Refusing to deploy' in out['gate_refused'], out['gate_refused']
    fixed = out['broken_at_boot_fixed']
    assert not fixed['failed'] and fixed['id'] == broken['id'] and fixed['steps'] == [], fixed
    rec = record(broken['id'])
    steps = [e['step'] for e in rec['timeline']]
    assert rec['status'] == 'resolved' and rec['escalation']['level'], rec
    assert steps.count('restart_web_container') == 1 and steps.index('escalate') < steps.index('close'), steps


def test_the_diagnosis_named_the_fault():
    out = outcomes()
    assert 'error_rate' in out['noisy_release']['first_problems']
    assert 'disk' in out['disk_full']['first_problems']


def evidence_bundle(path):
    """{file name: content} of the controller's copy of an incident's evidence (its files under evidence/)."""
    with tarfile.open(path) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
        assert all(m.name.startswith('evidence/') for m in members), [m.name for m in members]
        return {m.name[len('evidence/'):]: archive.extractfile(m).read() for m in members}


def test_evidence_bundles_match_their_sha256_lists():
    out = outcomes()
    for fault in FIXED_BY:
        bundle = evidence_bundle(os.path.join(COPIES, 'clawd-' + NAME, out[fault]['id'], 'evidence.tar.gz'))
        names = set()
        for line in bundle.pop('SHA256SUMS').decode().splitlines():
            digest, name = line.split('  ')
            assert hashlib.sha256(bundle[name]).hexdigest() == digest, name
            names.add(name)
        assert names == set(bundle), (names, set(bundle))
        assert {'host_checks.json', 'logs.json', 'webhook.json', 'health.json', 'diagnosis.json', 'docker_disk_usage.json'} <= names, names


def bot_token():
    """The scenario bot's token, as the Telegram stand-in's issuer key makes it (the inventory's rule)."""
    bot_id = 7200000000 + int(hashlib.md5(NAME.encode()).hexdigest()[:6], 16)
    return '%d:AA%s' % (bot_id, hashlib.sha256(('%s:%d' % (secret('telegram_bot_issuer_key'), bot_id)).encode()).hexdigest()[:33])


def test_no_secret_in_records_evidence_ledger_or_messages(host):
    texts = []
    for path in glob.glob(os.path.join(COPIES, '**', '*'), recursive=True):
        if path.endswith('.tar.gz'):
            texts.extend(content.decode('utf-8', 'replace') for content in evidence_bundle(path).values())
        elif os.path.isfile(path):
            with open(path, encoding='utf-8', errors='replace') as handle:
                texts.append(handle.read())
    with open(os.path.join(HOST_DIR, 'ledger.jsonl'), encoding='utf-8') as handle:
        texts.append(handle.read())
    texts.append(json.dumps(outcomes()['messages']))
    on_host = host.run('cat %s/*.json %s/*.md %s/*/evidence/*' % (HOST_INCIDENTS, HOST_INCIDENTS, HOST_INCIDENTS))
    assert on_host.rc == 0 and on_host.stdout
    texts.append(on_host.stdout)
    assert len(texts) > 20
    for value in secret_values() + [bot_token()]:
        for text in texts:
            assert value not in text


def test_the_operators_heard_of_each_incident_and_its_end():
    out = outcomes()
    texts = [m.get('text', '') for m in out['messages'] if str(m.get('chat_id')) == '4242']
    for fault in FIXED_BY:
        incident_id = out[fault]['id']
        # The stand-in keeps every scenario's messages: this host's, by its name after the id.
        assert any(re.match(r'Incident detected: %s \(P\d\) .* on clawd-%s:' % (incident_id, NAME), t) for t in texts), (fault, texts)
        assert any(re.match(r'Incident resolved: %s \(P\d\) on clawd-%s,' % (incident_id, NAME), t) for t in texts), (fault, texts)
    assert any(t.startswith('Incident escalated to ') and '%s (P1) on clawd-%s.' % (out['broken_at_boot']['id'], NAME) in t for t in texts), texts


def test_named_volumes_are_untouched_and_no_incident_is_left_open(host):
    volumes = os.environ.get('CLAWD_DOCKER_VOLUMES', '/var/lib/docker/volumes')
    for name in (NAME + '-workspace', NAME + '-claude-config'):
        assert host.run('test -d %s/%s/_data' % (volumes, name)).rc == 0, name
    listing = host.run("grep -l '\"status\": \"open\"\\|\"status\": \"escalated\"' %s/INC-*.json" % HOST_INCIDENTS)
    assert listing.stdout.strip() == '', listing.stdout
