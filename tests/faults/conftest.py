# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault-injection suite: tests that break things on purpose (kill -9 mid-run, a full disk, a slow or hostile
server, a lock held by another run) and check that nothing is lost.

They import the collection as ``ansible_collections.clawd.ops``: this puts a collections root on sys.path that
holds this checkout (the one ``scripts/lib.sh`` links for ansible.cfg, else a temporary one)."""

import os
import sys
import tempfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
STATE = os.environ.get('CLAWD_STATE', os.path.join(ROOT, '.lab'))


def _collections_root():
    linked = os.path.join(STATE, 'collections')
    ops = os.path.join(linked, 'ansible_collections', 'clawd', 'ops')
    if os.path.isdir(ops) and os.path.samefile(ops, ROOT):
        return linked
    root = tempfile.mkdtemp(prefix='clawd-faults-')
    os.makedirs(os.path.join(root, 'ansible_collections', 'clawd'))
    os.symlink(ROOT, os.path.join(root, 'ansible_collections', 'clawd', 'ops'))
    return root


COLLECTIONS = _collections_root()
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size)`` -> a folder on its own tmpfs of that size (e.g. '2m'), unmounted afterwards.

    A full disk, for real: needs root (CI and the lab machine run as root); skipped elsewhere."""
    import subprocess
    if os.geteuid() != 0:
        pytest.skip('mounting a small tmpfs needs root')
    mounted = []

    def make(size='2m', name='disk'):
        folder = tmp_path / name
        folder.mkdir()
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0755' % size, 'tmpfs', str(folder)], check=True)
        mounted.append(folder)
        return folder

    yield make
    for folder in reversed(mounted):
        subprocess.run(['umount', '-l', str(folder)], check=False)
