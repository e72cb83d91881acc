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
