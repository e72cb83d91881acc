# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monthly security audit's judgement: each finding ok, warning, critical or unknown, with its reason."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.clawd.ops.plugins.module_utils import _host_audit_judge as judge

AT = '2026-12-07T03:00:00Z'
NOW = 1796612400.0  # 2026-12-07T03:00:00Z
DAY = 86400


def test_ports_unexpected_tcp_is_critical_udp_warning_none_ok():
    tcp = judge.ports([{'proto': 'tcp', 'port': 5432, 'addresses': ['0.0.0.0']}], 4, AT)
    assert tcp['status'] == 'critical' and '5432/tcp' in tcp['reason'] and tcp['value'] == 1
    udp = judge.ports([{'proto': 'udp', 'port': 161, 'addresses': ['0.0.0.0']}], 4, AT)
    assert udp['status'] == 'warning'
    assert judge.ports([], 4, AT)['status'] == 'ok'


def test_users_extra_login_user_warns_extra_uid0_is_critical_missing_expected_warns():
    users = [{'name': 'root', 'uid': 0, 'shell': '/bin/bash'}, {'name': 'deploy', 'uid': 1000, 'shell': '/bin/bash'}]
    assert judge.users(users, ['deploy'], AT)['status'] == 'ok'
    extra = judge.users(users + [{'name': 'eve', 'uid': 1001, 'shell': '/bin/sh'}], ['deploy'], AT)
    assert extra['status'] == 'warning' and 'eve' in extra['reason']
    root2 = judge.users(users + [{'name': 'toor', 'uid': 0, 'shell': '/bin/sh'}], ['deploy'], AT)
    assert root2['status'] == 'critical' and 'toor' in root2['reason']
    missing = judge.users(users[:1], ['deploy'], AT)
    assert missing['status'] == 'warning' and 'deploy' in missing['reason']


def test_sudo_rules_any_unexpected_rule_is_critical():
    extra = [{'file': '/etc/sudoers.d/extra', 'rule': 'mallory ALL=(ALL) NOPASSWD: ALL'}]
    result = judge.sudo_rules(extra, 3, AT)
    assert result['status'] == 'critical' and '/etc/sudoers.d/extra' in result['reason']
    assert judge.sudo_rules([], 3, AT)['status'] == 'ok'


def test_sshd_drift_in_an_authentication_setting_is_critical_else_warning():
    warn = judge.sshd([{'setting': 'x11forwarding', 'expected': 'no', 'found': 'yes'}], AT)
    assert warn['status'] == 'warning' and 'x11forwarding is yes (expected no)' in warn['reason']
    crit = judge.sshd([{'setting': 'passwordauthentication', 'expected': 'no', 'found': 'yes'}], AT)
    assert crit['status'] == 'critical'
    assert judge.sshd([], AT)['status'] == 'ok'
    assert judge.sshd(None, AT, error='sshd -T failed: no host keys')['status'] == 'unknown'


def test_volume_files_setuid_is_critical_world_writable_warning_truncated_warning():
    base = {'setuid': [], 'setgid': [], 'world_writable': [], 'scanned': 10, 'missing': [], 'errors': 0, 'truncated': None}
    assert judge.volume_files(base, AT)['status'] == 'ok'
    assert judge.volume_files(dict(base, setuid=['/v/x']), AT)['status'] == 'critical'
    assert judge.volume_files(dict(base, setgid=['/v/x']), AT)['status'] == 'critical'
    assert judge.volume_files(dict(base, world_writable=['/v/x']), AT)['status'] == 'warning'
    truncated = judge.volume_files(dict(base, truncated='stopped at the file limit (10 entries)'), AT)
    assert truncated['status'] == 'warning' and 'file limit' in truncated['reason']


def test_security_updates_pending_warn_refresh_failure_warns_cves_unknown_without_debsecan():
    pending = [{'package': 'libssl3', 'installed': '1', 'candidate': '2', 'security': True},
               {'package': 'tzdata', 'installed': '1', 'candidate': '2', 'security': False}]
    result = judge.security_updates(pending, refreshed=True, refresh_error=None, cves=None, at=AT)
    assert result['status'] == 'warning' and result['value'] == 1 and 'CVE ids unknown' in result['reason']
    assert result['details']['packages'] == [{'package': 'libssl3', 'candidate': '2', 'cves': 'unknown'}]
    with_cves = judge.security_updates(pending, True, None, {'libssl3': ['CVE-2024-1']}, AT)
    assert with_cves['details']['packages'][0]['cves'] == ['CVE-2024-1']
    stale = judge.security_updates([], refreshed=False, refresh_error='Temporary failure resolving deb.debian.org', cves=None, at=AT)
    assert stale['status'] == 'warning' and 'could not refresh' in stale['reason']
    assert judge.security_updates([], True, None, None, AT)['status'] == 'ok'


def test_image_ages_oldest_decides():
    images = [{'id': 'sha256:aaa', 'tags': ['app:1'], 'created': NOW - 10 * DAY},
              {'id': 'sha256:bbb', 'tags': [], 'created': NOW - 400 * DAY}]
    result = judge.image_ages('image_age', images, NOW, 90, 365, AT)
    assert result['status'] == 'critical' and result['value'] == 400
    assert result['details']['old'][0]['id'] == 'sha256:bbb'
    assert judge.image_ages('image_age', images[:1], NOW, 90, 365, AT)['status'] == 'ok'
    assert judge.image_ages('image_age', [], NOW, 90, 365, AT)['status'] == 'ok'


def test_credential_ages_by_the_newest_rotation_record():
    records = [{'recorded_at': '2026-11-27T03:00:00Z', 'rotated': ['telegram_bot_token']},
               {'recorded_at': '2026-03-01T03:00:00Z', 'rotated': ['telegram_bot_token', 'twilio_auth_token']}]
    result = judge.credential_ages(records, ['telegram_bot_token', 'twilio_auth_token', 'coolify_api_token'], NOW, 90, 180, AT)
    assert result['status'] == 'critical'
    ages = dict((item['kind'], item['age_days']) for item in result['details']['credentials'])
    assert ages == {'telegram_bot_token': 10, 'twilio_auth_token': 281, 'coolify_api_token': None}
    assert 'coolify_api_token never rotated' in result['reason']
    assert judge.credential_ages(records[:1], ['telegram_bot_token'], NOW, 90, 180, AT)['status'] == 'ok'


def test_file_ages_and_certificate_expiry():
    files = [{'path': '/etc/ssl/app.key', 'mtime': NOW - 800 * DAY},
             {'path': '/etc/ssl/app.crt', 'mtime': NOW - 10 * DAY, 'not_after': NOW + 5 * DAY}]
    result = judge.certificate_ages(files, NOW, age_warning=365, age_critical=730, expiry_warning=21, expiry_critical=7, at=AT)
    assert result['status'] == 'critical'
    assert '/etc/ssl/app.key is 800 days old' in result['reason'] and '/etc/ssl/app.crt expires in 5 days' in result['reason']
    missing = judge.certificate_ages([{'path': '/x', 'error': 'missing'}], NOW, 365, 730, 21, 7, AT)
    assert missing['status'] == 'warning'
    assert judge.certificate_ages([], NOW, 365, 730, 21, 7, AT)['status'] == 'ok'


OWN = {'executable': '/usr/bin/python3', 'version': '3.11.2',
       'libraries': {'docker': '5.0.3', 'requests': '2.28.1+dfsg', 'zstandard': '0.20.0', 'cryptography': '38.0.4', 'boto3': None}}
VENV = {'path': '/opt/clawd/venv', 'executable': '/opt/clawd/venv/bin/python', 'version': '3.11.2',
        'libraries': dict(OWN['libraries'], boto3='1.35.10')}


def test_version_numbers_are_read_tolerantly_and_compared_as_numbers():
    assert judge.version_numbers('2.28.1+dfsg') == (2, 28, 1)
    assert judge.version_numbers('1.34.0rc1') == (1, 34, 0)
    assert judge.version_numbers('v38') is None and judge.version_numbers(None) is None
    assert judge.version_below('1.26.27', '1.34') and judge.version_below('0.9', '0.20')
    assert not judge.version_below('1.34', '1.34.0') and not judge.version_below('38.0.4', '38.0')
    assert judge.version_below('garbage', '1.0') is None


def test_python_libraries_as_server_setup_installs_them_are_ok_and_newer_releases_are_said_to_be_unknown():
    result = judge.python_libraries(OWN, VENV, AT)
    assert result['check'] == 'python_libraries' and result['status'] == 'ok' and result['value'] == 0
    assert 'boto3 1.35.10 in /opt/clawd/venv' in result['reason'] and '/usr/bin/python3 3.11.2' in result['reason']
    assert 'not known offline' in result['details']['latest']
    boto3 = [item for item in result['details']['libraries'] if item['library'] == 'boto3'][0]
    assert boto3 == {'library': 'boto3', 'distribution': 'boto3', 'python': '/opt/clawd/venv/bin/python', 'version': '1.35.10',
                     'minimum': '1.34', 'status': 'ok'}
    assert result['details']['python'] == {'executable': '/usr/bin/python3', 'version': '3.11.2'}


def test_a_missing_library_is_critical_naming_what_server_setup_installs_and_an_old_one_a_warning():
    own = dict(OWN, libraries=dict(OWN['libraries'], zstandard=None, requests='2.25.1'))
    result = judge.python_libraries(own, VENV, AT)
    assert result['status'] == 'critical' and result['value'] == 2
    assert 'zstandard missing for /usr/bin/python3 (server_setup installs python3-zstandard (Debian))' in result['reason']
    assert 'requests 2.25.1 is older than 2.28' in result['reason']
    old = judge.python_libraries(OWN, dict(VENV, libraries=dict(VENV['libraries'], boto3='1.26.27')), AT)
    assert old['status'] == 'warning' and 'boto3 1.26.27 is older than 1.34 in /opt/clawd/venv' in old['reason']


def test_boto3_without_the_virtualenv_is_critical_and_a_virtualenv_that_cannot_be_read_unknown():
    gone = judge.python_libraries(OWN, {'path': '/opt/clawd/venv', 'missing': True}, AT)
    assert gone['status'] == 'critical'
    assert 'boto3 missing: no virtualenv /opt/clawd/venv' in gone['reason'] and 'boto3 >= 1.34 in the virtualenv' in gone['reason']
    broken = judge.python_libraries(OWN, {'path': '/opt/clawd/venv', 'error': 'exit 124 (timed out)'}, AT)
    assert broken['status'] == 'unknown' and 'exit 124 (timed out)' in broken['reason']
    # No virtualenv to audit: boto3 is judged in the module's own Python.
    alone = judge.python_libraries(dict(OWN, libraries=dict(OWN['libraries'], boto3='1.34.0')), None, AT)
    assert alone['status'] == 'ok' and alone['details']['venv'] is None


def test_a_version_that_cannot_be_compared_is_a_warning():
    result = judge.python_libraries(dict(OWN, libraries=dict(OWN['libraries'], docker='unknown')), VENV, AT)
    assert result['status'] == 'warning' and "docker version 'unknown' cannot be compared with 5.0" in result['reason']
