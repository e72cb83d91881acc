#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_audit
short_description: Audit a host's security and dependencies (ports, users, sudo, sshd, volumes, updates, ages, Python libraries) and care for its databases
version_added: 0.1.0
description:
  - The host side of the monthly maintenance, in one call. Each check of O(checks) gives one result in the form of the daily checks
    (C(check), C(status) V(ok), V(warning), V(critical) or V(unknown), C(value), C(unit), C(reason), C(measured_at), C(details)),
    so that M(clawd.ops.checks_report) writes them. A check that cannot be read is V(unknown) with the reason, never left out.
  - C(ports) reads C(/proc/net/tcp), C(tcp6), C(udp) and C(udp6); a listener another machine can reach (any address but loopback, and the
    host's own addresses of O(own_addresses)) on a port not in O(expected_ports) is critical (TCP) or a warning (UDP).
  - C(users) reads C(/etc/passwd); a user with a login shell and uid 0 or at least O(min_uid) that is not root or in O(expected_users) is a
    warning (critical with uid 0); an expected user missing is a warning.
  - C(sudo_rules) reads O(sudoers_path) and the files and folders it includes, as sudo does; a rule not in O(expected_sudo_rules) is critical.
  - C(sshd) runs C(sshd -T) and compares the effective settings with O(sshd_expected); drift in an authentication or root-login setting
    is critical, other drift a warning.
  - C(volume_files) walks the Docker volumes of O(volumes) and the folders of O(volume_paths) without following symlinks, at most
    O(walk_max_files) entries and O(walk_max_seconds) seconds; a setuid or setgid file is critical, a world-writable file (or a folder
    without the sticky bit), or a walk stopped at a limit, a warning.
  - C(security_updates) runs C(apt-get -s dist-upgrade) (after C(apt-get update) with O(updates_refresh), never in check mode) and counts
    the updates from a security origin; with C(debsecan) installed, their CVE ids, else C(unknown). Lists that could not be refreshed
    are a warning.
  - C(certificate_age) judges the age (modification time) of O(certificate_files) and, for PEM certificates, the days until they expire.
  - C(credential_age) judges the days since each credential of O(credentials) was last rotated by O(credential_records).
  - C(image_age) judges the age of the images of the Docker engine (O(image_filters)); C(app_image_age) that of the images the app's
    containers O(app_containers) run.
  - C(database) reports the size and the dead-tuple share (bloat) of each database of O(databases) and runs C(VACUUM ANALYZE) in it,
    through C(psql) in its container (the Docker Engine API).
  - C(python_libraries) reads the installed version of each Python library the collection's modules use on the host (C(docker),
    C(requests), C(zstandard), C(cryptography), C(boto3)) from its metadata, never importing it, as the module's own Python sees it
    (the result names that Python and its version), and, with O(python_venv), as the virtualenv's Python sees them (run with
    C(python -I -c), at most 30 seconds). C(boto3) is judged in the virtualenv (where server_setup installs it; without O(python_venv),
    in the module's Python), the others in the module's Python. A missing library is critical, naming what server_setup installs for it;
    one older than its minimum (Debian bookworm's for the distribution packages, 1.34 for C(boto3)), or whose version cannot be compared,
    a warning; a virtualenv whose Python cannot be run is V(unknown) for C(boto3). Whether newer releases exist is not known offline
    and is not looked up.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The audit only reads. In check mode the package lists are not refreshed and C(VACUUM ANALYZE) does not run.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - The Docker SDK for Python on the host for C(volume_files) with O(volumes), C(image_age), C(app_image_age) and C(database).
options:
  checks:
    description: The audit checks to run.
    type: list
    elements: str
    choices:
      - ports
      - users
      - sudo_rules
      - sshd
      - volume_files
      - security_updates
      - certificate_age
      - credential_age
      - image_age
      - app_image_age
      - database
      - python_libraries
    default:
      - ports
      - users
      - sudo_rules
      - sshd
      - volume_files
      - security_updates
      - certificate_age
      - credential_age
      - image_age
      - app_image_age
      - database
      - python_libraries
  expected_ports:
    description: Ports that may listen, V(22), V(443/tcp) or V(68/udp) (without a protocol, both).
    type: list
    elements: str
    default: ['22', '80', '443']
  own_addresses:
    description: The host's own addresses; a listener on one of them is reachable even when it is a loopback address.
    type: list
    elements: str
    default: []
  expected_users:
    description: Users besides root that may have a login shell (the deploy user).
    type: list
    elements: str
    default: []
  min_uid:
    description: The lowest uid of a person's account.
    type: int
    default: 1000
  sudoers_path:
    description: The main sudoers file.
    type: path
    default: /etc/sudoers
  expected_sudo_rules:
    description: The sudo rules that may be there, as written in a sudoers file (whitespace does not matter).
    type: list
    elements: str
    default: []
  sshd_path:
    description: The sshd program, run as C(sshd -T).
    type: path
    default: /usr/sbin/sshd
  sshd_expected:
    description: Expected effective sshd settings, name to value (V(true)/V(false) for yes/no; names in any case).
    type: dict
    default: {}
  volumes:
    description: Docker volumes whose files are walked (the app's volumes).
    type: list
    elements: str
    default: []
  volume_paths:
    description: Folders walked besides the volumes.
    type: list
    elements: path
    default: []
  walk_max_files:
    description: Most entries the walk looks at.
    type: int
    default: 200000
  walk_max_seconds:
    description: Most seconds the walk takes.
    type: float
    default: 60
  updates_refresh:
    description: Refresh the package lists (C(apt-get update)) before counting the pending updates (never in check mode).
    type: bool
    default: true
  debsecan:
    description: Read the CVE ids of the pending updates with C(debsecan) when it is installed.
    type: bool
    default: true
  certificate_files:
    description: Key and certificate files whose age (and, for a certificate, expiry) is judged.
    type: list
    elements: path
    default: []
  credentials:
    description: The credentials whose age is judged, by the kinds of the rotation records.
    type: list
    elements: str
    default: []
  credential_records:
    description: The C(credential_rotation) records of the run ledger (M(clawd.ops.run_ledger_info)), each with C(recorded_at) and C(rotated).
    type: list
    elements: dict
    default: []
  app_containers:
    description: The app's containers whose images C(app_image_age) judges.
    type: list
    elements: str
    default: []
  image_filters:
    description: >-
      Filters of the engine's image list for C(image_age) (the Docker Engine API's, for example C({label: [a=b]}));
      empty, every image.
    type: dict
    default: {}
  databases:
    description:
      - PostgreSQL databases to care for, as the backup role's C(backup_postgres) has them, each C(name), C(container), C(database) and
        optionally C(user) (V(postgres) by default); no password is used.
    type: list
    elements: dict
    default: []
  levels:
    description:
      - Warning and critical levels in days (a value at or above a level reaches it), over the defaults C(image_age_warning) 90,
        C(image_age_critical) 365, C(credential_age_warning) 90, C(credential_age_critical) 180, C(certificate_age_warning) 365,
        C(certificate_age_critical) 730, C(certificate_expiry_warning) 21 and C(certificate_expiry_critical) 7 (days left, at or below),
        and C(database_dead_ratio_warning) 20 (% dead tuples in a table).
    type: dict
    default: {}
  now:
    description: The time of the audit in epoch seconds (tests freeze the clock with it); default, now.
    type: float
  python_venv:
    description: The virtualenv whose Python C(python_libraries) also reads (server_setup's, with C(boto3)); empty, none.
    type: path
    default: /opt/clawd/venv
  docker_host:
    description: The Docker Engine API's address.
    type: str
    default: unix:///var/run/docker.sock
'''

EXAMPLES = r'''
- name: Audit the host against what server_setup set
  clawd.ops.host_audit:
    expected_users: [deploy]
    expected_sudo_rules: ['deploy ALL=(ALL) NOPASSWD: ALL', 'root ALL=(ALL:ALL) ALL', '%sudo ALL=(ALL:ALL) ALL']
    sshd_expected: {PermitRootLogin: 'no', PasswordAuthentication: false, X11Forwarding: false}
    volumes: [workspace, claude-config]
  become: true
  register: audit
'''

RETURN = r'''
results:
  description: One result per check of O(checks), in that order.
  returned: always
  type: list
  elements: dict
  sample: [{"check": "sudo_rules", "status": "critical", "value": 1, "unit": "rules", "warning": null, "critical": null,
            "reason": "unexpected sudo rules: ops ALL=(ALL) NOPASSWD: ALL in /etc/sudoers.d/ops", "measured_at": "2026-12-07T03:00:00Z"}]
worst:
  description: The worst status of the results (critical, warning, unknown, ok).
  returned: always
  type: str
  sample: critical
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._checks import worst
from ansible_collections.clawd.ops.plugins.module_utils._docker import HAS_DOCKER, api_client
from ansible_collections.clawd.ops.plugins.module_utils._host_audit_run import AUDIT_CHECKS, Audit

LEVELS = dict(image_age_warning=90, image_age_critical=365, credential_age_warning=90, credential_age_critical=180,
              certificate_age_warning=365, certificate_age_critical=730, certificate_expiry_warning=21, certificate_expiry_critical=7,
              database_dead_ratio_warning=20)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type='list', elements='str', choices=list(AUDIT_CHECKS), default=list(AUDIT_CHECKS)),
            expected_ports=dict(type='list', elements='str', default=['22', '80', '443']),
            own_addresses=dict(type='list', elements='str', default=[]),
            expected_users=dict(type='list', elements='str', default=[]),
            min_uid=dict(type='int', default=1000),
            sudoers_path=dict(type='path', default='/etc/sudoers'),
            expected_sudo_rules=dict(type='list', elements='str', default=[]),
            sshd_path=dict(type='path', default='/usr/sbin/sshd'),
            sshd_expected=dict(type='dict', default={}),
            volumes=dict(type='list', elements='str', default=[]),
            volume_paths=dict(type='list', elements='path', default=[]),
            walk_max_files=dict(type='int', default=200000),
            walk_max_seconds=dict(type='float', default=60),
            updates_refresh=dict(type='bool', default=True),
            debsecan=dict(type='bool', default=True),
            certificate_files=dict(type='list', elements='path', default=[]),
            credentials=dict(type='list', elements='str', default=[]),
            credential_records=dict(type='list', elements='dict', default=[]),
            app_containers=dict(type='list', elements='str', default=[]),
            image_filters=dict(type='dict', default={}),
            databases=dict(type='list', elements='dict', default=[]),
            levels=dict(type='dict', default={}),
            now=dict(type='float'),
            python_venv=dict(type='path', default='/opt/clawd/venv'),
            docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)
    unknown = sorted(set(params['levels']) - set(LEVELS))
    if unknown:
        module.fail_json(msg='Invalid options: levels has no %s (it takes %s)' % (', '.join(unknown), ', '.join(sorted(LEVELS))))
    params['levels'] = dict(LEVELS, **params['levels'])
    for database in params['databases']:
        if not all(database.get(key) for key in ('name', 'container', 'database')):
            module.fail_json(msg='Invalid options: each of databases needs name, container and database, not %r' % (database,))

    def run_command(argv):
        if module.get_bin_path(argv[0]) is None and not argv[0].startswith('/'):
            return 127, '', '%s is not installed' % argv[0]
        return module.run_command(argv, environ_update={'LC_ALL': 'C', 'DEBIAN_FRONTEND': 'noninteractive'})

    def engine():
        return api_client(params['docker_host']) if HAS_DOCKER else None

    audit = Audit(params, run_command, engine, params['now'] if params['now'] is not None else time.time(), time.monotonic,
                  check_mode=module.check_mode)
    results = audit.run()
    module.exit_json(changed=audit.changed, results=results, worst=worst([result['status'] for result in results]) if results else 'ok')


if __name__ == '__main__':
    main()
