# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP options of the modules that make requests through the transport, written once.

They are the options of doc fragment clawd.ops.transport: timeout, validate_certs, ca_path, retries.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg
from ansible_collections.clawd.ops.plugins.module_utils._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def http_argument_spec(**options):
    """An argument spec: the module's own options and the HTTP options of doc fragment clawd.ops.transport."""
    spec = dict(options)
    spec.update(
        timeout=dict(type='float', default=10),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        retries=dict(type='int', default=3),
    )
    return spec


def require_requests(module):
    """Fail the module, saying what installs it, when requests is missing on the host."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_lib_msg('requests'), exception=REQUESTS_IMPORT_ERROR)


def verify_option(params):
    """requests' verify from validate_certs and ca_path: the CA file to trust, True, or False."""
    return params['ca_path'] or True if params['validate_certs'] else False
