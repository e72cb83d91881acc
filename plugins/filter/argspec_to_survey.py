# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: argspec_to_survey
short_description: Turn a role's argument spec into an AWX job template survey
version_added: 0.1.0
description:
  - Reads the options of one entry point of a role's C(meta/argument_specs.yml) and returns the survey spec AWX's
    API takes (C(name), C(description), C(spec) - one question per option), for the O(awx.awx.job_template#module:survey_spec)
    option of C(awx.awx.job_template).
  - Types map to question types - V(str) and V(path) to V(text) (V(multiplechoice) with C(choices)), V(int) to V(integer),
    V(float) to V(float), V(bool) to V(multiplechoice) of V(true) and V(false), a V(list) of strings with C(choices) to
    V(multiselect), an option with C(no_log) to V(password) (never with a default). C(required) carries over.
  - Options a survey cannot ask for (dicts, lists without choices, raw values) are left out, and so are options O(include)
    does not name when it is given.
  - A question's default is the role's default from O(defaults) (its C(defaults/main.yml)) when that is a plain value of the
    option's type, else the argument spec's C(default) when that has the option's type (or its choices); a template is not a
    value, and the question then has none. When O(defaults) is given, a text question takes its default from there only (an
    argument spec's text default often names where the value comes from, for example C(clawd_app_url, else empty)).
author:
  - clawd.ops team (@clawd-ops)
positional: entry_point, include, defaults, name, description
options:
  _input:
    description: The argument specs, as loaded from C(meta/argument_specs.yml) (with or without the top C(argument_specs) key).
    type: dict
    required: true
  entry_point:
    description: The entry point whose options become questions.
    type: str
    default: main
  include:
    description: The options to ask for, in this order (default - every option a survey can ask for, in the spec's order).
    type: list
    elements: str
  defaults:
    description: The role's defaults (C(defaults/main.yml) as loaded), the first source of the questions' defaults.
    type: dict
  name:
    description: The survey's name.
    type: str
    default: ''
  description:
    description: The survey's description (default - the entry point's short description).
    type: str
'''

EXAMPLES = r'''
- name: Create the daily checks job template with a survey made from the role's argument spec
  awx.awx.job_template:
    name: clawd.ops daily checks
    playbook: playbooks/daily_checks.yml
    project: clawd.ops
    inventory: production
    survey_enabled: true
    survey_spec: >-
      {{ lookup('ansible.builtin.file', 'roles/daily_checks/meta/argument_specs.yml') | from_yaml
         | clawd.ops.argspec_to_survey(include=['daily_checks_mode'],
                                       defaults=lookup('ansible.builtin.file', 'roles/daily_checks/defaults/main.yml') | from_yaml) }}
'''

RETURN = r'''
_value:
  description: The survey spec, as AWX's C(survey_spec) endpoint takes it.
  type: dict
  contains:
    name:
      description: The survey's name.
      type: str
    description:
      description: The survey's description.
      type: str
    spec:
      description: >-
        The questions - C(question_name), C(question_description), C(variable), C(type), C(required), and C(choices)
        (a newline-separated string) and C(default) where they apply.
      type: list
      elements: dict
      sample:
        - question_name: daily_checks_mode
          question_description: daily runs every enabled check; quick only those of daily_checks_quick_checks.
          variable: daily_checks_mode
          type: multiplechoice
          required: false
          choices: "daily\nquick\nweekly"
          default: daily
'''

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

# Ansible's documentation markup, as plain text in a survey: O(name) V(value) C(code) I(italic) B(bold) M(module) U(url).
_MARKUP = re.compile(r'\b[OVCIBMU]\(((?:[^()\\]|\\.)*)\)')


def _plain(text):
    if isinstance(text, list):
        text = ' '.join(str(t) for t in text)
    return re.sub(r'\\(.)', r'\1', _MARKUP.sub(r'\1', str(text or ''))).strip()


def _question_type(option):
    kind = option.get('type', 'str')
    if option.get('no_log'):
        return 'password' if kind in ('str', 'path') else None
    if kind in ('str', 'path'):
        return 'multiplechoice' if option.get('choices') else 'text'
    if kind == 'int':
        return 'integer'
    if kind == 'float':
        return 'float'
    if kind == 'bool':
        return 'multiplechoice'
    if kind == 'list' and option.get('choices') and option.get('elements', 'str') == 'str':
        return 'multiselect'
    return None


def _default(qtype, value, choices):
    """The value as the question's default, or None when it is not a plain value of the question's type."""
    if value is None or qtype == 'password':
        return None
    if isinstance(value, string_types) and ('{{' in value or '{%' in value):
        return None
    if qtype == 'integer':
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if qtype == 'float':
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if qtype == 'multiselect':
        values = value if isinstance(value, list) else None
        return '\n'.join(str(v) for v in values) if values is not None and all(str(v) in choices for v in values) else None
    if qtype == 'multiplechoice':
        text = str(value).lower() if isinstance(value, bool) else value
        return text if isinstance(text, string_types) and text in choices else None
    return value if isinstance(value, string_types) else None


def _question(variable, option, role_defaults):
    qtype = _question_type(option)
    if qtype is None:
        return None
    question = {
        'question_name': variable,
        'question_description': _plain(option.get('description')),
        'variable': variable,
        'type': qtype,
        'required': bool(option.get('required', False)),
    }
    choices = None
    if option.get('type') == 'bool':
        choices = ['true', 'false']
    elif qtype in ('multiplechoice', 'multiselect'):
        choices = [str(c) for c in option['choices']]
    if choices is not None:
        question['choices'] = '\n'.join(choices)
    default = None
    if variable in role_defaults:
        default = _default(qtype, role_defaults[variable], choices or [])
    if default is None and 'default' in option and (qtype != 'text' or variable not in role_defaults and not role_defaults):
        default = _default(qtype, option['default'], choices or [])
    if default is not None:
        question['default'] = default
    return question


def argspec_to_survey(specs, entry_point='main', include=None, defaults=None, name='', description=None):
    if not isinstance(specs, dict):
        raise AnsibleFilterError('argspec_to_survey: expected the argument specs as a mapping, got %s' % type(specs).__name__)
    specs = specs.get('argument_specs', specs)
    if entry_point not in specs:
        raise AnsibleFilterError('argspec_to_survey: the argument specs have no entry point %s (they have: %s)'
                                 % (entry_point, ', '.join(sorted(specs)) or 'none'))
    point = specs[entry_point] or {}
    options = point.get('options') or {}
    if include is not None:
        unknown = [o for o in include if o not in options]
        if unknown:
            raise AnsibleFilterError('argspec_to_survey: entry point %s has no option %s' % (entry_point, ', '.join(unknown)))
    questions = []
    for variable in (include if include is not None else list(options)):
        question = _question(variable, options[variable] or {}, defaults or {})
        if question is None and include is not None:
            raise AnsibleFilterError('argspec_to_survey: option %s (type %s) cannot be asked in a survey'
                                     % (variable, (options[variable] or {}).get('type', 'str')))
        if question is not None:
            questions.append(question)
    if not questions:
        raise AnsibleFilterError('argspec_to_survey: entry point %s has no option a survey can ask for' % entry_point)
    return {
        'name': name or '',
        'description': _plain(description if description is not None else point.get('short_description', '')),
        'spec': questions,
    }


class FilterModule(object):
    def filters(self):
        return {'argspec_to_survey': argspec_to_survey}
