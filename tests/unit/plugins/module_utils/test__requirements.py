# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The message a host without a required library gets: the library, this Python, and the role that installs it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys

import pytest

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.clawd.ops.plugins.module_utils._requirements import HOST_REQUIREMENTS, missing_lib_msg


@pytest.mark.parametrize('library', sorted(HOST_REQUIREMENTS))
def test_every_host_requirement_names_server_setup_and_what_it_installs(library):
    msg = missing_lib_msg(library)
    assert msg.startswith(missing_required_lib(library))
    assert 'clawd.ops.server_setup' in msg and HOST_REQUIREMENTS[library] in msg and sys.executable in msg


def test_the_reason_is_kept_and_an_unknown_library_is_named_as_it_is():
    msg = missing_lib_msg('lz4', reason='for compression=lz4')
    assert 'for compression=lz4' in msg and 'installs lz4;' in msg
