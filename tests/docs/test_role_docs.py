# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role docs: every role's meta/argument_specs.yml passes antsibull-docs' role schema (what
`antsibull-docs lint-collection-docs --plugin-docs` checks, and what the docs site renders), and every
role has a README.md that docs/role_readmes.py would write unchanged from those specs."""

import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROLES = sorted(name for name in os.listdir(os.path.join(ROOT, 'roles'))
               if os.path.isfile(os.path.join(ROOT, 'roles', name, 'meta', 'argument_specs.yml')))


def test_every_role_has_argument_specs():
    assert sorted(os.listdir(os.path.join(ROOT, 'roles'))) == ROLES


@pytest.mark.parametrize('role', ROLES)
def test_argument_specs_pass_the_docs_schema(role):
    from antsibull_docs.schemas.docs.role import RoleSchema  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        specs = yaml.safe_load(handle)['argument_specs']
    try:
        RoleSchema.model_validate({'collection': 'clawd.ops', 'entry_points': specs, 'path': os.path.join(ROOT, 'roles', role)})
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        pytest.fail('roles/%s/meta/argument_specs.yml does not pass antsibull-docs\' role schema:\n%s' % (role, error))


def test_every_role_has_a_readme():
    missing = [role for role in ROLES if not os.path.isfile(os.path.join(ROOT, 'roles', role, 'README.md'))]
    assert not missing, 'roles without a README.md: %s (write them with `scripts/docs readmes`)' % ', '.join(missing)


def test_role_readmes_are_current():
    """Writing the READMEs again from the argument specs changes nothing."""
    done = subprocess.run([sys.executable, os.path.join(ROOT, 'docs', 'role_readmes.py'), '--check'],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, 'role READMEs are not what docs/role_readmes.py writes:\n%s%s' % (done.stdout[-3000:], done.stderr)


def _generator():
    sys.path.insert(0, os.path.join(ROOT, 'docs'))
    try:
        import role_readmes  # pylint: disable=import-outside-toplevel,import-error
    finally:
        sys.path.pop(0)
    return role_readmes


def test_hand_written_blocks_survive_regeneration():
    generator = _generator()
    text = generator.render('backup')
    edited = text.replace('<!-- BEGIN hand-written: intro -->\n', '<!-- BEGIN hand-written: intro -->\nA line | with *text* kept.\n', 1)
    again = generator.render('backup', edited)
    assert 'A line | with *text* kept.\n' in again
    assert again == generator.render('backup', again)
    assert again.count('| `backup_dir` |') == 2  # one row per entry point that has the option (main, retention)


def test_markup_becomes_markdown():
    generator = _generator()
    assert generator.markdown('Set O(backup_dir=/srv) or V(x\\)y) and I(this) B(that), see U(https://x.y) and L(the docs,https://d.e).') == (
        'Set `backup_dir=/srv` or `x)y` and *this* **that**, see <https://x.y> and [the docs](https://d.e).')
    assert generator.markdown('Tags <app uuid>:<commit> and a * star') == 'Tags &lt;app uuid&gt;:&lt;commit&gt; and a \\* star'


def test_broken_specs_are_named_not_a_traceback(tmp_path, monkeypatch):
    generator = _generator()
    (tmp_path / 'roles' / 'broken' / 'meta').mkdir(parents=True)
    (tmp_path / 'roles' / 'broken' / 'meta' / 'argument_specs.yml').write_text('argument_specs:\n  main: [unclosed\n')
    monkeypatch.setattr(generator, 'ROOT', str(tmp_path))
    with pytest.raises(generator.ReadmeError, match=r'roles/broken/meta/argument_specs.yml: not valid YAML'):
        generator.render('broken')
