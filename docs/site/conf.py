# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx configuration of the clawd.ops docs site (scripts/docs builds it with antsibull-docs and Sphinx).

Started from `antsibull-docs sphinx-init --use-current clawd.ops` (2.28.0), built offline: instead of
intersphinx inventories downloaded from docs.ansible.com, references to Ansible's own docs and to other
collections become plain links there (see external_reference). A reference inside clawd.ops that does not
resolve still fails the build (-W).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from docutils import nodes

project = 'clawd.ops'
copyright = 'clawd.ops contributors'  # pylint: disable=redefined-builtin
title = 'clawd.ops documentation'
html_short_title = 'clawd.ops documentation'

extensions = ['sphinx.ext.autodoc', 'sphinx_antsibull_ext']

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = 'any'
nitpicky = True

ANSIBLE_DOCS = 'https://docs.ansible.com/ansible/latest/'
# Labels of Ansible's docs that the generated pages refer to, and their pages.
ANSIBLE_LABELS = {
    'common_return_values': 'reference_appendices/common_return_values.html',
    'callback_plugins': 'plugins/callback.html',
    'ansible_configuration_settings': 'reference_appendices/config.html',
}
OWN_PREFIX = 'ansible_collections.clawd.ops.'


def external_url(kind, target):
    """The docs.ansible.com page of a reference outside this collection, or None (then Sphinx reports it)."""
    if kind == 'ref':
        if target in ANSIBLE_LABELS:
            return ANSIBLE_DOCS + ANSIBLE_LABELS[target]
        parts = target.split('.', 3)
        if target.startswith('ansible_collections.') and not target.startswith(OWN_PREFIX) and len(parts) == 4:
            return ANSIBLE_DOCS + 'collections/%s/%s/%s.html' % (parts[1], parts[2], parts[3].split('__', 1)[0])
    if kind == 'envvar' and target.startswith('ANSIBLE_'):
        return ANSIBLE_DOCS + 'reference_appendices/config.html#envvar-' + target
    return None


def external_reference(app, env, node, contnode):  # pylint: disable=unused-argument
    url = external_url(node.get('reftype'), node.get('reftarget', ''))
    if url is None:
        return None
    reference = nodes.reference('', '', internal=False, refuri=url)
    reference += contnode
    return reference


def setup(app):
    app.connect('missing-reference', external_reference)
