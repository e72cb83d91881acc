# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docs site as a person sees it: scripts/docs builds it (antsibull-docs + Sphinx) into .lab/docs-site/html
(or $CLAWD_DOCS_SITE), and headless Chromium (Debian's `chromium`) opens the page of the module app_health.

A copy of the page with a small probe script, beside it so that its styles and scripts load, collects after layout
what is rendered: the title, whether the theme's styles apply, and each row of the options table (name, type,
required, description, shown or not); --dump-dom hands it back. Every option that ansible-doc reports for the
module must be there, shown, with its type and its description.

Chromium missing FAILS this test: install Debian's package `chromium`.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SITE = os.environ.get('CLAWD_DOCS_SITE') or os.path.join(ROOT, '.lab', 'docs-site', 'html')
MODULE = 'app_health'
PAGE = os.path.join(SITE, 'collections', 'clawd', 'ops', '%s_module.html' % MODULE)
CHROMIUM_TIMEOUT = 90
# How antsibull-docs names the option types on the page.
TYPE_NAMES = {'str': 'string', 'int': 'integer', 'bool': 'boolean', 'dict': 'dictionary', 'raw': 'any'}
PROBE = r'''
<script>
window.addEventListener('load', function () {
  function shown(el) { var box = el && el.getBoundingClientRect(); return !!box && box.width > 0 && box.height > 0; }
  var side = document.querySelector('nav.wy-nav-side');
  var out = {title: document.title, side_position: side ? getComputedStyle(side).position : null, side_shown: shown(side)};
  out.options = [].map.call(document.querySelectorAll('#parameters table.ansible-option-table > tbody > tr'), function (row) {
    var title = row.querySelector('.ansible-option-title');
    var type = row.querySelector('.ansible-option-type'), elements = row.querySelector('.ansible-option-elements');
    return {name: title ? title.innerText.trim() : null, shown: shown(title),
            type: type ? type.innerText.trim() + (elements ? ' / ' + elements.innerText.trim() : '') : null,
            required: !!row.querySelector('.ansible-option-required'),
            description: row.cells.length > 1 ? row.cells[1].innerText : ''};
  });
  var pre = document.createElement('pre');
  pre.id = 'probe-out';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
'''


def _chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail('headless Chromium is needed to check the docs site as a person sees it, and none is installed: '
                'apt-get install --no-install-recommends chromium')
    return None


def _module_options():
    """The module's options as ansible-doc reports them (its doc fragments included)."""
    env = dict(os.environ)
    env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, '.lab', 'collections'))
    env.setdefault('ANSIBLE_CONFIG', os.path.join(ROOT, '.config', 'ansible-none.cfg'))
    ansible_doc = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')  # the virtualenv's, beside its python
    command = [ansible_doc if os.path.exists(ansible_doc) else 'ansible-doc', '--json', '-t', 'module', 'clawd.ops.%s' % MODULE]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert done.returncode == 0, 'ansible-doc cannot read clawd.ops.%s: %s' % (MODULE, done.stderr[-2000:])
    return json.loads(done.stdout)['clawd.ops.%s' % MODULE]['doc']['options']


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    if not os.path.isfile(PAGE):
        pytest.fail('the docs site is not built (no %s): run scripts/docs' % PAGE)
    probe_page = os.path.join(os.path.dirname(PAGE), '.probe-%s_module.html' % MODULE)
    with open(PAGE) as handle:
        html = handle.read()
    assert '</body>' in html, '%s has no </body>' % PAGE
    with open(probe_page, 'w') as handle:
        handle.write(html.replace('</body>', PROBE + '</body>', 1))
    profile = tmp_path_factory.mktemp('chromium-profile')
    command = [_chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
               '--allow-file-access-from-files', '--user-data-dir=%s' % profile, '--window-size=1280,1600',
               '--virtual-time-budget=5000', '--dump-dom', 'file://' + probe_page]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False)
    finally:
        os.remove(probe_page)
    assert done.returncode == 0, 'chromium failed (%d): %s' % (done.returncode, done.stderr[-2000:])
    found = re.search(r'<pre id="probe-out">(.*?)</pre>', done.stdout, re.S)
    assert found, 'the probe found nothing: the page did not load in Chromium (%s)' % done.stderr[-1000:]
    return json.loads(found.group(1).replace('&lt;', '<').replace('&gt;', '>').replace('&quot;', '"').replace('&amp;', '&'))


def test_module_page_is_styled(rendered):
    assert 'clawd.ops.%s module' % MODULE in rendered['title']
    # The theme's stylesheet pins the side navigation; without it the nav is an ordinary block.
    assert rendered['side_position'] == 'fixed' and rendered['side_shown'], (
        'the theme does not apply to the page (side navigation: position %s, shown %s)' % (rendered['side_position'], rendered['side_shown']))


def test_module_page_renders_its_options(rendered):
    options = _module_options()
    rows = dict((row['name'], row) for row in rendered['options'] if row['name'])
    missing = sorted(set(options) - set(rows))
    assert not missing, 'the page of clawd.ops.%s does not show the options %s (it shows %s)' % (MODULE, missing, sorted(rows))
    for name, spec in options.items():
        row = rows[name]
        assert row['shown'], 'option %s is in the page but not shown' % name
        kind, elements = spec.get('type', 'str'), spec.get('elements')
        wanted = TYPE_NAMES.get(kind, kind) + (' / elements=%s' % TYPE_NAMES.get(elements, elements) if elements else '')
        assert row['type'] == wanted, 'option %s: the page shows type %r, ansible-doc says %r' % (name, row['type'], wanted)
        assert row['required'] == bool(spec.get('required')), 'option %s: required shown as %s' % (name, row['required'])
        first = spec['description'][0] if isinstance(spec['description'], list) else spec['description']
        words = re.sub(r'[A-Z]{1,2}\(([^)]*)\)', r'\1', first).split()[:4]
        assert ' '.join(words) in ' '.join(row['description'].split()), (
            'option %s: the description shown (%r) does not start as documented (%r)' % (name, row['description'][:200], ' '.join(words)))
