# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write coolify-openapi-subset.json: the paths the collection uses and the components they refer to.

    python3 tests/standins/specs/extract_coolify_subset.py [/work/shared/specs/coolify-openapi.json]

The source is Coolify's openapi.json (see README.md here for the repository and commit).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = "/work/shared/specs/coolify-openapi.json"
TARGET = os.path.join(HERE, "coolify-openapi-subset.json")
PATHS = {
    "/version": ["get"],
    "/health": ["get"],
    "/deploy": ["post"],
    "/deployments": ["get"],
    "/deployments/{uuid}": ["get"],
    "/deployments/{uuid}/cancel": ["post"],
    "/deployments/applications/{uuid}": ["get"],
    "/applications": ["get"],
    "/applications/{uuid}": ["get", "patch", "delete"],
    "/applications/public": ["post"],
    "/projects": ["get", "post"],
    "/projects/{uuid}": ["get", "delete"],
    "/projects/{uuid}/environments": ["get", "post"],
    "/servers": ["get"],
    "/servers/{uuid}": ["get"],
    "/applications/{uuid}/start": ["post"],
    "/applications/{uuid}/stop": ["post"],
    "/applications/{uuid}/restart": ["post"],
    "/applications/{uuid}/rollback-images": ["get"],
    "/applications/{uuid}/rollback": ["post"],
    "/applications/{uuid}/envs": ["get", "post", "patch"],
    "/applications/{uuid}/envs/bulk": ["patch"],
    "/applications/{uuid}/envs/{env_uuid}": ["delete"],
}


def refs(node, found):
    """Collect every "#/components/..." reference under node."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def subset(spec):
    """The trimmed spec."""
    out = {"openapi": spec["openapi"], "info": spec["info"], "servers": spec.get("servers", []), "paths": {},
           "components": {}}
    for path, methods in PATHS.items():
        out["paths"][path] = {m: spec["paths"][path][m] for m in methods}
    pending = set()
    refs(out["paths"], pending)
    done = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        _hash, _components, kind, name = ref.split("/", 3)
        node = spec["components"][kind][name]
        out["components"].setdefault(kind, {})[name] = node
        refs(node, pending)
    out["components"]["securitySchemes"] = spec["components"].get("securitySchemes", {})
    return out


def main(argv):
    source = argv[1] if len(argv) > 1 else SOURCE
    with open(source, encoding="utf-8") as handle:
        spec = json.load(handle)
    with open(TARGET, "w", encoding="utf-8") as handle:
        json.dump(subset(spec), handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote %s" % TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
