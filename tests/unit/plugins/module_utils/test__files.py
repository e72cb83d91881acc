# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one folder maker and atomic writer that the lock, ledger, incidents, reports, marker and guard share."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _files


def test_a_folder_another_run_creates_meanwhile_is_no_error(tmp_path, monkeypatch):
    folder = str(tmp_path / 'a' / 'b')
    real_makedirs = os.makedirs

    def racing_makedirs(path, mode=0o777, exist_ok=False):
        real_makedirs(path, mode, exist_ok)
        if path == folder:
            raise FileExistsError(17, 'File exists', path)  # the other run was first

    monkeypatch.setattr(os, 'makedirs', racing_makedirs)
    _files.ensure_folder(folder, 0o700)
    assert os.path.isdir(folder)


def test_a_folder_that_cannot_be_made_is_an_error(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(OSError):
        _files.ensure_folder(str(blocker / 'sub'))


def test_text_and_bytes_are_written_whole_with_their_mode_and_folder(tmp_path):
    text_path = str(tmp_path / 'new' / 'state.json')
    _files.write_atomically(text_path, '{"a": 1}\n', 0o600, folder_mode=0o700)
    assert open(text_path).read() == '{"a": 1}\n'
    assert os.stat(text_path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(text_path)).st_mode & 0o777 == 0o700
    bytes_path = str(tmp_path / 'new' / 'evidence.bin')
    _files.write_atomically(bytes_path, b'\x00\xff')
    assert open(bytes_path, 'rb').read() == b'\x00\xff'
    assert sorted(os.listdir(str(tmp_path / 'new'))) == ['evidence.bin', 'state.json']


def test_without_a_folder_mode_the_folder_must_exist(tmp_path):
    with pytest.raises(OSError):
        _files.write_atomically(str(tmp_path / 'missing' / 'x'), 'x')
    assert not (tmp_path / 'missing').exists()
