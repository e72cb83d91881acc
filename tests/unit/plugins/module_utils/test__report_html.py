# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTML report's template (module_utils/_report_template) and how _report_html fills it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import string

from ansible_collections.clawd.ops.plugins.module_utils import _report_html, _report_template

HOSTILE = '<script>alert("x")</script> & \'quoted\''


def _templates():
    return dict((name, value) for name, value in vars(_report_template).items()
                if name.isupper() and isinstance(value, str))


def _placeholders(text):
    return set(match.group('named') or match.group('braced') for match in string.Template.pattern.finditer(text)
               if match.group('named') or match.group('braced'))


def test_the_template_module_holds_only_text():
    public = [name for name in vars(_report_template) if not name.startswith('_') and callable(getattr(_report_template, name))]
    assert public == [], 'the template module holds code: %s' % public
    assert all(isinstance(getattr(_report_template, name), (str, tuple)) for name in vars(_report_template) if name.isupper())
    assert 'PAGE' in _templates() and '<style>' in _report_template.PAGE and '$' not in _report_template.PAGE.replace('${', '')


def test_every_text_placeholder_of_every_template_is_escaped():
    for name, text in _templates().items():
        for placeholder in _placeholders(text) - set(_report_template.MARKUP_PLACEHOLDERS):
            values = dict((other, '') for other in _placeholders(text))
            values[placeholder] = HOSTILE
            filled = _report_html._fill(text, **values)
            assert '<script>' not in filled and '"x"' not in filled, '%s: ${%s} is not escaped' % (name, placeholder)
            assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;' in filled


def test_a_markup_placeholder_takes_markup_and_the_page_is_whole():
    filled = _report_html._fill(_report_template.BADGE, status='ok', label='OK')
    assert filled == '<span class="badge s-ok" data-status="ok">OK</span>'
    row = _report_html._fill(_report_template.HOST_ROW, status='ok', host='h', badge=filled, ok='1', warning='0', critical='0',
                             unknown='0', attention='nothing')
    assert '<td><span class="badge s-ok"' in row
    used = set(placeholder for text in _templates().values() for placeholder in _placeholders(text))
    assert set(_report_template.MARKUP_PLACEHOLDERS) <= used, 'a markup placeholder no template has'
    # Only these take markup (fragments of the templates filled by _report_html); a new one is a change to review here.
    assert sorted(_report_template.MARKUP_PLACEHOLDERS) == ['badge', 'cards', 'cells', 'critical_on', 'details', 'heads', 'issues',
                                                            'items', 'rows', 'sections', 'sparkline', 'values']
