# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write every role's README.md from its meta/argument_specs.yml and meta/main.yml.

    python docs/role_readmes.py            write roles/<role>/README.md for every role
    python docs/role_readmes.py --check    change nothing; exit 1 naming each README that is not current
    python docs/role_readmes.py ROLE...    only these roles

(scripts/docs readmes runs the first.) The README follows the order Requirements, Role Variables,
Dependencies, Example Playbook. Role Variables is one table per entry point, written from the argument
specs: each option's type, whether it is required, its default, its description (Ansible markup turned
into Markdown) and its choices. The text between the markers

    <!-- BEGIN hand-written: NAME -->
    <!-- END hand-written: NAME -->

(NAME one of intro, requirements, variables, dependencies, example) is written by hand and kept as it
is when the README is written again; a new README gets a starting text in each.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import difflib
import json
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
COLLECTION = 'clawd.ops'
BLOCKS = ('intro', 'requirements', 'variables', 'dependencies', 'example')
BLOCK_RE = re.compile(r'<!-- BEGIN hand-written: (?P<name>[a-z_]+) -->\n(?P<text>.*?)<!-- END hand-written: (?P=name) -->', re.S)
# Ansible's documentation markup: C(code), O(option), V(value), I(italic), B(bold), U(url), L(text,url), ...
MARKUP_RE = re.compile(r'\b(?P<kind>[A-Z]{1,2})\((?P<text>(?:[^()\\]|\\.)*)\)')


class ReadmeError(Exception):
    """A role whose README cannot be written; the message names the file and what is wrong."""


def _unescape(text):
    return re.sub(r'\\(.)', r'\1', text)


def _code(text):
    text = text.replace('\n', ' ')
    if '`' in text:
        return '`` %s ``' % text
    return '`%s`' % text


def _escape(text):
    """Plain text for Markdown: no HTML tags (C(<app uuid>) would vanish) and no emphasis by accident."""
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('*', '\\*')


def markdown(text):
    """Ansible markup of one paragraph as Markdown."""
    def convert(match):
        kind, inner = match.group('kind'), _unescape(match.group('text'))
        if kind in ('C', 'O', 'V', 'RV', 'E', 'M'):
            return _code(inner)
        if kind == 'P':
            return _code(inner.split('#', 1)[0])
        if kind == 'I':
            return '*%s*' % _escape(inner)
        if kind == 'B':
            return '**%s**' % _escape(inner)
        if kind == 'U':
            return '<%s>' % inner
        if kind == 'L':
            label, _sep, url = inner.rpartition(',')
            return '[%s](%s)' % (_escape(label.strip()), url.strip())
        return _escape(match.group(0))
    text = ' '.join(str(text).split())
    out, position = [], 0
    for match in MARKUP_RE.finditer(text):
        out += [_escape(text[position:match.start()]), convert(match)]
        position = match.end()
    return ''.join(out + [_escape(text[position:])])


def _paragraphs(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [markdown(item) for item in value]
    return [markdown(value)]


def _cell(text):
    return text.replace('|', '\\|').replace('\n', ' ')


def _value(value):
    if isinstance(value, str):
        if MARKUP_RE.search(value):  # a default told in words, with markup: as prose
            return markdown(value)
        return _code(value) if value else '`""`'
    return _code(json.dumps(value, sort_keys=True))


def _type(spec):
    kind = spec.get('type', 'str')
    if kind == 'list' and spec.get('elements'):
        return 'list of %s' % spec['elements']
    return kind


def _option_rows(options, prefix=''):
    rows = []
    for name in options or {}:  # in the order of the specs, which group them
        spec = options[name] or {}
        if not isinstance(spec, dict):
            raise ReadmeError('option %s%s is not a mapping' % (prefix, name))
        description = ' '.join(_paragraphs(spec.get('description')))
        if spec.get('choices'):
            description += ' Choices: %s.' % ', '.join(_value(choice) for choice in spec['choices'])
        if spec.get('aliases'):
            description += ' Aliases: %s.' % ', '.join(_code(alias) for alias in spec['aliases'])
        if spec.get('version_added'):
            description += ' Added in %s.' % spec['version_added']
        default = _value(spec['default']) if 'default' in spec and spec['default'] is not None else ''
        cells = (_code(prefix + name), _cell(_type(spec)), 'yes' if spec.get('required') else '', _cell(default), _cell(description.strip()))
        rows.append('| %s | %s | %s | %s | %s |' % cells)
        rows.extend(_option_rows(spec.get('options'), '%s%s.' % (prefix, name)))
    return rows


def _entry_point(name, spec):
    if not isinstance(spec, dict):
        raise ReadmeError('entry point %s is not a mapping' % name)
    lines = ['### Entry point `%s`' % name, '']
    if name != 'main':
        lines += ['Run with `tasks_from: %s` (`ansible.builtin.include_role` or `import_role`).' % name, '']
    lines += _paragraphs(spec.get('short_description')) + ['']
    described = _paragraphs(spec.get('description'))
    if described:
        lines += ['- %s' % paragraph for paragraph in described] + ['']
    if spec.get('options'):
        lines += ['| Variable | Type | Required | Default | Description |', '|---|---|---|---|---|']
        lines += _option_rows(spec['options']) + ['']
    else:
        lines += ['This entry point has no variables.', '']
    if spec.get('requirements'):
        lines += ['Requirements of this entry point:', ''] + ['- %s' % item for item in _paragraphs(spec['requirements'])] + ['']
    return lines


def _load_yaml(path):
    try:
        with open(path) as handle:
            return yaml.safe_load(handle)
    except (IOError, OSError) as error:
        raise ReadmeError('%s: cannot read it (%s)' % (os.path.relpath(path, ROOT), error.strerror or error))
    except yaml.YAMLError as error:
        raise ReadmeError('%s: not valid YAML: %s' % (os.path.relpath(path, ROOT), ' '.join(str(error).split())))


def _defaults(role, main_meta, specs):
    """Starting text of each hand-written block for a README that has none yet."""
    description = (main_meta.get('galaxy_info') or {}).get('description') or ''
    required = sorted(name for name, spec in ((specs.get('main') or {}).get('options') or {}).items() if (spec or {}).get('required'))
    example = ['```yaml', '- name: Run the %s role' % role, '  hosts: app_hosts', '  roles:', '    - role: %s.%s' % (COLLECTION, role)]
    if required:
        example += ['      vars:'] + ['        %s: ...' % name for name in required]
    example += ['```']
    return {
        'intro': ' '.join(description.split()),
        'requirements': '',
        'variables': '',
        'dependencies': '',
        'example': '\n'.join(example),
    }


def _block(name, text):
    text = text.strip('\n')
    return ['<!-- BEGIN hand-written: %s -->' % name] + ([text] if text else []) + ['<!-- END hand-written: %s -->' % name]


def _platforms(galaxy_info):
    out = []
    for platform in galaxy_info.get('platforms') or []:
        versions = [str(version) for version in platform.get('versions') or []]
        out.append('%s (%s)' % (platform.get('name'), ', '.join(versions)) if versions else str(platform.get('name')))
    return ', '.join(out)


def render(role, existing=None):
    """The README.md of one role, keeping the hand-written blocks of EXISTING (its current text)."""
    base = os.path.join(ROOT, 'roles', role, 'meta')
    specs_path = os.path.join(base, 'argument_specs.yml')
    specs = _load_yaml(specs_path)
    if not isinstance(specs, dict) or not isinstance(specs.get('argument_specs'), dict) or not specs['argument_specs']:
        raise ReadmeError('%s: has no argument_specs mapping of entry points' % os.path.relpath(specs_path, ROOT))
    specs = specs['argument_specs']
    main_meta = _load_yaml(os.path.join(base, 'main.yml')) if os.path.exists(os.path.join(base, 'main.yml')) else {}
    main_meta = main_meta if isinstance(main_meta, dict) else {}
    galaxy_info = main_meta.get('galaxy_info') or {}

    blocks = _defaults(role, main_meta, specs)
    for match in BLOCK_RE.finditer(existing or ''):
        if match.group('name') in blocks:
            blocks[match.group('name')] = match.group('text')

    lines = ['# %s.%s' % (COLLECTION, role), '']
    lines += _block('intro', blocks['intro']) + ['']
    lines += ['<!-- Written by docs/role_readmes.py (scripts/docs readmes) from meta/argument_specs.yml and meta/main.yml:',
              '     edit those, or the text between the hand-written markers, which is kept. -->', '']
    lines += ['## Requirements', '']
    facts = []
    if galaxy_info.get('min_ansible_version'):
        facts.append('- ansible-core %s or later.' % galaxy_info['min_ansible_version'])
    if _platforms(galaxy_info):
        facts.append('- Platforms: %s.' % _platforms(galaxy_info))
    lines += facts + ([''] if facts else [])
    lines += _block('requirements', blocks['requirements']) + ['']
    lines += ['## Role Variables', '',
              'From `meta/argument_specs.yml`, which the role checks its variables against when it starts '
              '(`ansible-doc -t role %s.%s` shows the same).' % (COLLECTION, role), '']
    for name in sorted(specs, key=lambda entry: (entry != 'main', entry)):
        lines += _entry_point(name, specs[name])
    lines += _block('variables', blocks['variables']) + ['']
    lines += ['## Dependencies', '']
    dependencies = main_meta.get('dependencies') or []
    if dependencies:
        lines += ['- %s' % _code(dep if isinstance(dep, str) else (dep.get('role') or dep.get('name') or json.dumps(dep)))
                  for dep in dependencies] + ['']
    else:
        lines += ['None declared in `meta/main.yml`.', '']
    lines += _block('dependencies', blocks['dependencies']) + ['']
    lines += ['## Example Playbook', '']
    lines += _block('example', blocks['example']) + ['']
    licenses = galaxy_info.get('license') or []
    lines += ['## License', '', ', '.join(licenses) if isinstance(licenses, list) else str(licenses)]
    return '\n'.join(lines) + '\n'


def roles():
    folder = os.path.join(ROOT, 'roles')
    return sorted(name for name in os.listdir(folder) if os.path.isdir(os.path.join(folder, name)))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write every role's README.md from its argument specs.")
    parser.add_argument('--check', action='store_true', help='change nothing; fail naming each README that is not current')
    parser.add_argument('roles', nargs='*', metavar='ROLE', help='only these roles (default: all)')
    args = parser.parse_args(argv)
    known = roles()
    unknown = [name for name in args.roles if name not in known]
    if unknown:
        parser.error('no such role: %s (roles: %s)' % (', '.join(unknown), ', '.join(known)))
    stale, failed = [], []
    for role in args.roles or known:
        path = os.path.join(ROOT, 'roles', role, 'README.md')
        existing = None
        if os.path.exists(path):
            with open(path) as handle:
                existing = handle.read()
        try:
            text = render(role, existing)
        except ReadmeError as error:
            failed.append('roles/%s: %s' % (role, error))
            continue
        if text == existing:
            continue
        stale.append(role)
        if args.check:
            diff = difflib.unified_diff((existing or '').splitlines(True), text.splitlines(True),
                                        'roles/%s/README.md' % role, 'roles/%s/README.md (regenerated)' % role)
            sys.stdout.writelines(list(diff)[:40])
        else:
            with open(path + '.tmp', 'w') as handle:
                handle.write(text)
            os.rename(path + '.tmp', path)
            print('wrote roles/%s/README.md' % role)
    for message in failed:
        print('role_readmes: %s' % message, file=sys.stderr)
    if args.check and stale:
        print('role_readmes: not current: %s; write them with `scripts/docs readmes`'
              % ', '.join('roles/%s/README.md' % role for role in stale), file=sys.stderr)
        return 1
    if failed:
        return 2
    if args.check:
        print('role_readmes: %d role READMEs are current' % len(args.roles or known))
    return 0


if __name__ == '__main__':
    sys.exit(main())
