# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Files the collection keeps on a host: a folder several runs may create at once, and a file written whole.

Private to the collection: the lock, the ledger, incident records, reports, the maintenance marker and the
release guard all keep their state this way.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import tempfile


def ensure_folder(folder, mode=0o755):
    """Create folder (and its parents) unless it is there; another run creating it at the same moment is no error."""
    if not folder or os.path.isdir(folder):
        return
    try:
        os.makedirs(folder, mode)
    except OSError:
        if not os.path.isdir(folder):
            raise


def write_atomically(path, data, mode=0o644, folder_mode=None):
    """Write data (text or bytes) to path whole: a temporary file in the same folder, fsynced, then renamed over path.

    A reader sees the old content or the new one, never a part. folder_mode: create the folder first with that mode
    (None: it must exist). A failure leaves no temporary file behind.
    """
    folder = os.path.dirname(path) or '.'
    if folder_mode is not None:
        ensure_folder(folder, folder_mode)
    fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=folder)
    try:
        if isinstance(data, bytes):
            handle = os.fdopen(fd, 'wb')
        else:
            handle = os.fdopen(fd, 'w', encoding='utf-8')
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
