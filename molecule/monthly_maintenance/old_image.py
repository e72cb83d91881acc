# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write an image archive for `docker load` whose image was created on a fixed old date (no registry, no build).

usage: python3 old_image.py OUT.tar TAG CREATED LABEL=VALUE
One layer with one small file; the config carries the date, the label and the layer's diff id.
"""

import hashlib
import io
import json
import sys
import tarfile


def tar_bytes(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w', format=tarfile.USTAR_FORMAT) as archive:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def main(out, tag, created, label):
    key, _sep, value = label.partition('=')
    layer = tar_bytes([('etc/clawd-molecule-old-image', b'an image from long ago\n')])
    config = json.dumps({
        'architecture': 'amd64', 'os': 'linux', 'created': created,
        'config': {'Labels': {key: value}, 'Cmd': ['/bin/true']},
        'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + hashlib.sha256(layer).hexdigest()]},
        'history': [{'created': created, 'created_by': 'old_image.py'}],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + '.json'
    manifest = json.dumps([{'Config': config_name, 'RepoTags': [tag], 'Layers': ['layer/layer.tar']}]).encode()
    with open(out, 'wb') as handle:
        handle.write(tar_bytes([('layer/layer.tar', layer), (config_name, config), ('manifest.json', manifest)]))


if __name__ == '__main__':
    main(*sys.argv[1:5])
