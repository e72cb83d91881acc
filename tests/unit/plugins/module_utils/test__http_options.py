# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP options written once: the spec, the requests check, verify."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _http_options
from ansible_collections.clawd.ops.plugins.module_utils._http_options import http_argument_spec, require_requests, verify_option


def test_spec_holds_the_module_options_and_the_transport_options():
    spec = http_argument_spec(url=dict(type='str', required=True))
    assert spec == {
        'url': {'type': 'str', 'required': True},
        'timeout': {'type': 'float', 'default': 10},
        'validate_certs': {'type': 'bool', 'default': True},
        'ca_path': {'type': 'path'},
        'retries': {'type': 'int', 'default': 3},
    }
    assert http_argument_spec()['timeout'] is not spec['timeout']  # each module gets its own dicts


@pytest.mark.parametrize('validate_certs, ca_path, verify', [(True, None, True), (True, '/etc/ca.pem', '/etc/ca.pem'), (False, '/etc/ca.pem', False)])
def test_verify_option(validate_certs, ca_path, verify):
    assert verify_option({'validate_certs': validate_certs, 'ca_path': ca_path}) == verify


class Module(object):
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs


def test_require_requests_fails_naming_the_library_only_when_it_is_missing(monkeypatch):
    module = Module()
    require_requests(module)
    assert module.failed is None
    monkeypatch.setattr(_http_options, 'HAS_REQUESTS', False)
    monkeypatch.setattr(_http_options, 'REQUESTS_IMPORT_ERROR', 'Traceback: no module named requests')
    require_requests(module)
    assert 'requests' in module.failed['msg'] and 'clawd.ops.server_setup' in module.failed['msg']
    assert module.failed['exception'] == 'Traceback: no module named requests'
