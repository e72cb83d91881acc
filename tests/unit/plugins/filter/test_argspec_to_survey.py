# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""argspec_to_survey: types, choices, required and defaults carried over, and every survey made from the collection's
roles valid as AWX's API validates a survey spec (JobTemplateSurveySpec._validate_spec_data in ansible/awx)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.filter.argspec_to_survey import FilterModule, argspec_to_survey

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))

# The question types AWX takes, with the Python type a default must have (awx/api/views JobTemplateSurveySpec.ALLOWED_TYPES).
AWX_TYPES = {'text': str, 'textarea': str, 'password': str, 'multiplechoice': str, 'multiselect': str, 'integer': int, 'float': float}


def awx_errors(survey):
    """The errors AWX's API answers a POST of this survey spec with (400), as its view checks them; empty: accepted."""
    errors = []
    for field, kind in (('name', str), ('description', str), ('spec', list)):
        if not isinstance(survey.get(field), kind):
            errors.append('%s missing or not a %s' % (field, kind.__name__))
    if errors:
        return errors
    if not survey['spec']:
        return ["'spec' doesn't contain any items."]
    seen = set()
    for idx, item in enumerate(survey['spec']):
        if not isinstance(item, dict):
            errors.append('question %d is not an object' % idx)
            continue
        for field in ('type', 'question_name', 'variable', 'required'):
            want = bool if field == 'required' else str
            if not isinstance(item.get(field), want):
                errors.append('question %d: %s missing or not %s' % (idx, field, want.__name__))
        if item.get('variable') in seen:
            errors.append('question %d: variable %s duplicated' % (idx, item.get('variable')))
        seen.add(item.get('variable'))
        qtype = item.get('type')
        if qtype not in AWX_TYPES:
            errors.append('question %d: type %s not allowed' % (idx, qtype))
            continue
        if 'default' in item and item['default'] != '' and not isinstance(item['default'], AWX_TYPES[qtype]):
            errors.append('question %d: default of the wrong type' % idx)
        for key in ('min', 'max'):
            if item.get(key) is not None and not isinstance(item[key], int):
                errors.append('question %d: %s not an integer' % (idx, key))
        if qtype in ('multiplechoice', 'multiselect'):
            if 'choices' not in item:
                errors.append('question %d: no choices' % idx)
                continue
            choices = item['choices'].splitlines() if isinstance(item['choices'], str) else item['choices']
            if 'default' in item:
                defaults = item['default'].splitlines() if isinstance(item['default'], str) else item['default']
                if qtype == 'multiplechoice' and len(defaults) > 1:
                    errors.append('question %d: more than one default' % idx)
                if any(d not in choices for d in defaults):
                    errors.append('question %d: default not among the choices' % idx)
        if isinstance(item.get('default'), str) and item['default'].startswith('$encrypted$'):
            errors.append('question %d: $encrypted$ default on a new survey' % idx)
    return errors


SPEC = {
    'argument_specs': {
        'main': {
            'short_description': 'Do C(things) to O(x).',
            'options': {
                'r_mode': {'type': 'str', 'choices': ['daily', 'quick'], 'default': 'daily', 'description': ['V(daily) runs all.', 'More.']},
                'r_name': {'type': 'str', 'required': True, 'description': 'A name.'},
                'r_count': {'type': 'int', 'default': 3, 'description': 'How many.'},
                'r_ratio': {'type': 'float', 'default': 1, 'description': 'A ratio.'},
                'r_enabled': {'type': 'bool', 'default': True, 'description': 'On.'},
                'r_token': {'type': 'str', 'no_log': True, 'default': 'never-shown', 'description': 'A secret.'},
                'r_checks': {'type': 'list', 'elements': 'str', 'choices': ['a', 'b', 'c'], 'default': ['a', 'c'], 'description': 'Checks.'},
                'r_hosts': {'type': 'list', 'elements': 'str', 'description': 'Free list.'},
                'r_map': {'type': 'dict', 'description': 'A mapping.'},
                'r_url': {'type': 'str', 'default': 'clawd_app_url, else empty', 'description': 'Documented default.'},
            },
        },
        'other': {'short_description': 'Only maps.', 'options': {'r_map': {'type': 'dict'}}},
    },
}


def by_variable(survey):
    return {q['variable']: q for q in survey['spec']}


def test_the_filter_is_registered():
    assert FilterModule().filters()['argspec_to_survey'] is argspec_to_survey


def test_types_choices_required_and_defaults():
    survey = argspec_to_survey(SPEC, name='Run it')
    assert survey['name'] == 'Run it' and survey['description'] == 'Do things to x.'
    questions = by_variable(survey)
    assert questions['r_mode'] == {
        'question_name': 'r_mode', 'question_description': 'daily runs all. More.', 'variable': 'r_mode',
        'type': 'multiplechoice', 'required': False, 'choices': 'daily\nquick', 'default': 'daily'}
    assert questions['r_name']['type'] == 'text' and questions['r_name']['required'] is True and 'default' not in questions['r_name']
    assert questions['r_count']['type'] == 'integer' and questions['r_count']['default'] == 3
    assert questions['r_ratio']['type'] == 'float' and questions['r_ratio']['default'] == 1.0
    assert isinstance(questions['r_ratio']['default'], float)  # AWX refuses an int default for a float question
    assert questions['r_enabled']['choices'] == 'true\nfalse' and questions['r_enabled']['default'] == 'true'
    assert questions['r_checks']['type'] == 'multiselect' and questions['r_checks']['default'] == 'a\nc'
    assert awx_errors(survey) == []


def test_a_secret_is_a_password_question_without_its_default():
    question = by_variable(argspec_to_survey(SPEC))['r_token']
    assert question['type'] == 'password' and 'default' not in question


def test_what_a_survey_cannot_ask_is_left_out():
    assert not {'r_hosts', 'r_map'} & set(by_variable(argspec_to_survey(SPEC)))


def test_a_documented_default_is_not_a_value_the_role_default_is():
    assert 'default' not in by_variable(argspec_to_survey(SPEC, defaults={'r_url': '{{ clawd_app_url }}'}))['r_url']
    assert 'default' not in by_variable(argspec_to_survey(SPEC, defaults={'r_count': 4}))['r_url']
    questions = by_variable(argspec_to_survey(SPEC, defaults={'r_url': 'https://app.example.com', 'r_count': '{{ other }}', 'r_mode': 'quick'}))
    assert questions['r_url']['default'] == 'https://app.example.com'
    assert questions['r_count']['default'] == 3  # a template is not a value: the spec's default
    assert questions['r_mode']['default'] == 'quick'


def test_include_picks_and_orders_the_questions():
    survey = argspec_to_survey(SPEC, include=['r_count', 'r_mode'])
    assert [q['variable'] for q in survey['spec']] == ['r_count', 'r_mode']


@pytest.mark.parametrize('kwargs, message', [
    (dict(entry_point='nope'), 'no entry point nope (they have: main, other)'),
    (dict(include=['r_missing']), 'entry point main has no option r_missing'),
    (dict(include=['r_map']), 'option r_map (type dict) cannot be asked in a survey'),
    (dict(entry_point='other'), 'entry point other has no option a survey can ask for'),
])
def test_errors_name_what_is_wrong(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message.replace('(', r'\(').replace(')', r'\)')):
        argspec_to_survey(SPEC, **kwargs)


def test_the_validator_refuses_what_awx_refuses():
    good = argspec_to_survey(SPEC)
    assert awx_errors(dict(good, spec=[])) == ["'spec' doesn't contain any items."]
    assert awx_errors(dict(good, spec=good['spec'] + good['spec'][:1]))
    assert awx_errors(dict(good, spec=[dict(good['spec'][0], type='boolean')]))
    assert awx_errors(dict(good, spec=[dict(good['spec'][0], default='weekly')]))
    assert awx_errors(dict(good, spec=[dict(good['spec'][0], required='no')]))
    assert awx_errors(dict(good, spec=[{'type': 'float', 'question_name': 'x', 'variable': 'x', 'required': False, 'default': 1}]))


@pytest.mark.parametrize('path', sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))),
                         ids=lambda p: p.split(os.sep)[-3])
def test_every_role_makes_a_survey_awx_accepts(path):
    with open(path, encoding='utf-8') as handle:
        specs = yaml.safe_load(handle)
    defaults_path = os.path.join(os.path.dirname(os.path.dirname(path)), 'defaults', 'main.yml')
    defaults = {}
    if os.path.exists(defaults_path):
        with open(defaults_path, encoding='utf-8') as handle:
            defaults = yaml.safe_load(handle) or {}
    for entry_point, point in specs['argument_specs'].items():
        try:
            survey = argspec_to_survey(specs, entry_point=entry_point, defaults=defaults)
        except AnsibleFilterError as exc:
            assert 'no option a survey can ask for' in str(exc)
            continue
        assert awx_errors(survey) == [], (entry_point, awx_errors(survey))
        secret = {v for v, o in (point.get('options') or {}).items() if o.get('no_log')}
        assert all('default' not in q for q in survey['spec'] if q['variable'] in secret)
