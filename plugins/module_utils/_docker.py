# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Docker SDK for Python, imported once for every module that talks to the Docker Engine API.

``docker`` is None when the SDK is not installed; HAS_DOCKER and DOCKER_IMPORT_ERROR say so (the
module then fails with missing_lib_msg('docker')). DOCKER_ERRORS and DOCKER_NOT_FOUND are tuples
to catch: empty without the SDK, so an ``except`` on them catches nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

try:
    import docker
    HAS_DOCKER, DOCKER_IMPORT_ERROR = True, None
    DOCKER_ERRORS, DOCKER_NOT_FOUND = (docker.errors.DockerException,), (docker.errors.NotFound,)
except ImportError:
    docker = None
    HAS_DOCKER, DOCKER_IMPORT_ERROR = False, traceback.format_exc()
    DOCKER_ERRORS = DOCKER_NOT_FOUND = ()


def docker_host_option():
    """The ``docker_host`` option of every module that talks to the engine (DOCKER_HOST, else the local socket)."""
    from ansible.module_utils.basic import env_fallback
    return dict(type='str', default='unix:///var/run/docker.sock', fallback=(env_fallback, ['DOCKER_HOST']))


def api_client(docker_host):
    """The low-level Docker API client (inspect_container, logs, ...). Modules bind it as their test seam."""
    return docker.APIClient(base_url=docker_host, version='auto')
