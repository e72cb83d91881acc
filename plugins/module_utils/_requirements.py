# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host requirements of the collection's modules, and the message a host without one gets.

The server_setup role installs every host requirement (Debian packages where Debian's are new
enough, a virtualenv for the rest). A module that misses one names the library, the Python it ran
with, and the role that installs it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys

from ansible.module_utils.basic import missing_required_lib

# library import name -> what server_setup installs for it
HOST_REQUIREMENTS = {
    'docker': 'python3-docker (Debian)',
    'requests': 'python3-requests (Debian)',
    'zstandard': 'python3-zstandard (Debian)',
    'cryptography': 'python3-cryptography (Debian)',
    'boto3': 'boto3 >= 1.34 in the virtualenv /opt/clawd/venv',
}
# library import name -> its distribution name, the one its installed metadata (importlib.metadata) is found by
HOST_DISTRIBUTIONS = {
    'docker': 'docker',
    'requests': 'requests',
    'zstandard': 'zstandard',
    'cryptography': 'cryptography',
    'boto3': 'boto3',
}
# library import name -> the lowest version the modules are used with: Debian bookworm's packages, and amazon.aws's boto3
HOST_MINIMUM_VERSIONS = {
    'docker': '5.0',
    'requests': '2.28',
    'zstandard': '0.20',
    'cryptography': '38.0',
    'boto3': '1.34',
}
# the libraries server_setup installs in the virtualenv (the Python of the amazon.aws tasks), not for the system Python
HOST_VENV_LIBRARIES = ('boto3',)


def missing_lib_msg(library, reason=None):
    """missing_required_lib's message, plus where this host's Python is and what installs it."""
    msg = missing_required_lib(library, reason=reason)
    what = HOST_REQUIREMENTS.get(library, library)
    return ('%s This host was not prepared for clawd.ops: the clawd.ops.server_setup role (playbooks/provision.yml) '
            'installs %s; this module ran with %s.' % (msg, what, sys.executable))
