# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release the collection ships, as its docs and changelog tell it.

galaxy.yml's version is what ships. Every module, callback and filter plugin says in ``version_added`` the
release that brought it, and that release exists in changelogs/changelog.yaml and is not newer than galaxy.yml;
the changelog's releases together list every module (``modules:``) and every callback and filter plugin
(``plugins:`` by type), each once, in the release its ``version_added`` names.
"""

import ast
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
NAMESPACE = 'clawd.ops'
PLUGIN_TYPES = ('callback', 'filter')  # besides modules: the plugin types this collection ships


def _version(text):
    return tuple(int(part) for part in str(text).split('.'))


def _documentation(path):
    """DOCUMENTATION of a plugin file, read without importing it."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'DOCUMENTATION' for t in node.targets):
            try:
                return yaml.safe_load(node.value.value)
            except yaml.YAMLError as error:
                raise AssertionError('%s: DOCUMENTATION is not valid YAML: %s' % (os.path.relpath(path, ROOT), ' '.join(str(error).split())))
    raise AssertionError('%s has no DOCUMENTATION' % os.path.relpath(path, ROOT))


def _plugins():
    """(type, name, version_added) of every module and callback/filter plugin in plugins/."""
    found = []
    for kind, folder in [('module', 'modules')] + [(kind, kind) for kind in PLUGIN_TYPES]:
        base = os.path.join(ROOT, 'plugins', folder)
        for entry in sorted(os.listdir(base)):
            if entry.endswith('.py') and not entry.startswith('_'):
                doc = _documentation(os.path.join(base, entry))
                found.append((kind, doc.get('module') or doc.get('name'), str(doc.get('version_added'))))
    return found


@pytest.fixture(scope='module')
def galaxy_version():
    with open(os.path.join(ROOT, 'galaxy.yml')) as handle:
        return str(yaml.safe_load(handle)['version'])


@pytest.fixture(scope='module')
def changelog():
    with open(os.path.join(ROOT, 'changelogs', 'changelog.yaml')) as handle:
        return yaml.safe_load(handle)


def test_every_plugin_is_found():
    kinds = [kind for kind, _name, _added in _plugins()]
    assert kinds.count('module') >= 20 and 'callback' in kinds and 'filter' in kinds


def test_version_added_is_a_released_version(galaxy_version, changelog):
    releases = set(changelog.get('releases') or {})
    wrong = ['%s %s: version_added %s' % (kind, name, added) for kind, name, added in _plugins()
             if added not in releases or _version(added) > _version(galaxy_version)]
    assert not wrong, ('version_added must name a release in changelogs/changelog.yaml (%s) not newer than '
                       'galaxy.yml (%s): %s' % (', '.join(sorted(releases)) or 'none', galaxy_version, '; '.join(wrong)))


def _nested_version_added(doc, where=''):
    """(where, version_added) of every option and sub-option that says when it came."""
    found = []
    for name, spec in ((doc or {}).get('options') or {}).items():
        if isinstance(spec, dict):
            if 'version_added' in spec:
                found.append((where + name, str(spec['version_added'])))
            found.extend(_nested_version_added(spec, where + name + '.'))
    return found


def test_option_version_added_is_a_released_version(galaxy_version, changelog):
    releases = set(changelog.get('releases') or {})
    wrong = []
    for kind, folder in [('module', 'modules')] + [(kind, kind) for kind in PLUGIN_TYPES]:
        base = os.path.join(ROOT, 'plugins', folder)
        for entry in sorted(os.listdir(base)):
            if entry.endswith('.py') and not entry.startswith('_'):
                for where, added in _nested_version_added(_documentation(os.path.join(base, entry))):
                    if added not in releases or _version(added) > _version(galaxy_version):
                        wrong.append('%s %s option %s: version_added %s' % (kind, entry[:-3], where, added))
    assert not wrong, 'version_added must name a release of changelogs/changelog.yaml not newer than galaxy.yml: ' + '; '.join(wrong)


def test_galaxy_version_is_released_in_the_changelog(galaxy_version, changelog):
    assert galaxy_version in (changelog.get('releases') or {}), (
        'galaxy.yml ships %s, and changelogs/changelog.yaml has no such release' % galaxy_version)


def test_changelog_lists_every_plugin_in_its_release(changelog):
    listed = {}
    for version, release in (changelog.get('releases') or {}).items():
        for entry in release.get('modules') or []:
            assert 'namespace' in entry and entry.get('description'), (
                'release %s: module entry %r needs name, description and namespace' % (version, entry))
            listed.setdefault(('module', entry['name']), []).append(str(version))
        for kind, entries in (release.get('plugins') or {}).items():
            for entry in entries:
                assert 'namespace' in entry and entry.get('description'), (
                    'release %s: %s plugin entry %r needs name, description and namespace' % (version, kind, entry))
                listed.setdefault((kind, entry['name']), []).append(str(version))
    wrong = []
    for kind, name, added in _plugins():
        versions = listed.pop((kind, name), [])
        if versions != [added]:
            wrong.append('%s %s (version_added %s) is listed in releases %s' % (kind, name, added, versions or 'none'))
    wrong.extend('%s %s is listed in %s but not in plugins/' % (kind, name, versions) for (kind, name), versions in listed.items())
    assert not wrong, 'changelogs/changelog.yaml: ' + '; '.join(wrong)


def test_no_fragment_waits_outside_the_release(galaxy_version):
    """A fragment left in changelogs/fragments is a change the release galaxy.yml ships does not tell."""
    folder = os.path.join(ROOT, 'changelogs', 'fragments')
    pending = sorted(entry for entry in os.listdir(folder) if not entry.startswith('.')) if os.path.isdir(folder) else []
    assert not pending, ('changelogs/fragments holds %s, which release %s (galaxy.yml) does not list: add them to it with '
                         '`scripts/docs release`' % (', '.join(pending), galaxy_version))
