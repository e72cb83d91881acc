#!/usr/bin/env python
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an idle lab costs the machine: CPU cores its containers use, measured over a window.

    .venv/bin/python benchmarks/lab_idle_bench.py                # the lab as it runs now, 60 s
    .venv/bin/python benchmarks/lab_idle_bench.py --seconds 120

Sums, over the window, the CPU time of every container of this lab instance (their cgroups: the app,
its health checks, sshd, nginx) and of the container runtime's processes (dockerd, containerd, each
container's containerd-shim and runc: a Docker health check is a `docker exec`, paid there), and prints
both as cores (1.0 = one core busy the whole window), per lab host, and the load average. The runtime's
share includes whatever else runs on this Docker engine at the time (Molecule, other labs): the
output says how many containers were running that are not the lab's.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import subprocess
import time

TICKS = os.sysconf('SC_CLK_TCK')
LAB_HOST = re.compile(r'^lab[0-9]+$')
RUNTIME = ('dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v2', 'runc')


def docker(*args):
    return subprocess.run(('docker',) + args, capture_output=True, text=True, check=True).stdout


def lab_instance():
    out = subprocess.run(['bash', '-c', '. scripts/lib.sh && echo "$CLAWD_LAB_INSTANCE"'], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return out.stdout.strip()


def container_cpu_ns(ids):
    """Nanoseconds of CPU of each container's cgroup (cgroup v1 cpuacct or v2 cpu.stat)."""
    total = 0
    for cid in ids:
        for path in ('/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage' % cid, '/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat' % cid,
                     '/sys/fs/cgroup/docker/%s/cpu.stat' % cid):
            try:
                with open(path) as handle:
                    text = handle.read()
            except OSError:
                continue
            if path.endswith('cpu.stat'):
                total += int(dict(line.split() for line in text.splitlines()).get('usage_usec', 0)) * 1000
            else:
                total += int(text)
            break
    return total


def runtime_cpu_ticks():
    """pid -> clock ticks of CPU (with reaped children: runc) of each runtime process now running."""
    ticks = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % pid) as handle:
                fields = handle.read().rsplit(')', 1)
            comm = fields[0].split('(', 1)[1]
        except (OSError, IndexError):
            continue
        if comm in RUNTIME or comm.startswith('containerd-shim') or comm.startswith('runc'):
            ticks[pid] = sum(int(x) for x in fields[1].split()[11:15])  # utime stime cutime cstime
    return ticks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seconds', type=float, default=60.0, help='the window (default 60)')
    args = parser.parse_args()
    instance = lab_instance()
    everything = docker('ps', '-q', '--no-trunc').split()
    inspected = json.loads(docker('inspect', *everything) or '[]') if everything else []
    # The lab's hosts (labN) and their app stacks; Molecule's hosts share the instance label, not the names.
    lab = [item for item in inspected if (item['Config'].get('Labels') or {}).get('clawd.lab.instance') == instance
           and LAB_HOST.match((item['Config'].get('Labels') or {}).get('clawd.lab.host')
                              or (item['Config'].get('Labels') or {}).get('clawd.lab.name') or '')]
    hosts = sum(1 for item in lab if item['Config']['Labels'].get('clawd.lab.role') == 'host')
    checked = sum(1 for item in lab if (item.get('State') or {}).get('Health'))
    ids = [item['Id'] for item in lab]
    c0, r0, t0 = {i: container_cpu_ns([i]) for i in ids}, runtime_cpu_ticks(), time.monotonic()
    time.sleep(args.seconds)
    c1, r1, t1 = {i: container_cpu_ns([i]) for i in ids}, runtime_cpu_ticks(), time.monotonic()
    wall = t1 - t0
    by_kind = {}
    for item in lab:
        labels = item['Config']['Labels']
        kind = labels.get('clawd.app.role') or labels.get('clawd.lab.role') or 'other'
        if item['Name'].endswith('-proxy'):
            kind = 'proxy'
        by_kind[kind] = by_kind.get(kind, 0) + (c1[item['Id']] - c0[item['Id']]) / 1e9 / wall
    cores_containers = sum(by_kind.values())
    cores_runtime = sum(r1[pid] - r0[pid] for pid in r1 if pid in r0) / TICKS / wall  # processes alive at both ends
    print('lab instance %s: %d lab hosts, %d containers (%d with a health check); %d other containers on the engine'
          % (instance, hosts, len(lab), checked, len(everything) - len(lab)))
    print('window %.0f s; load average now: %s' % (wall, ' '.join(open('/proc/loadavg').read().split()[:3])))
    print('lab containers: %.3f cores (%.4f per lab host): %s' % (cores_containers, cores_containers / max(hosts, 1), ', '.join(
        '%s %.3f' % (kind, cores) for kind, cores in sorted(by_kind.items(), key=lambda kv: -kv[1]))))
    print('container runtime (dockerd, containerd, shims, runc; shared with the other containers): %.3f cores' % cores_runtime)
    print('lab total: %.3f cores of %d' % (cores_containers + cores_runtime, os.cpu_count()))


if __name__ == '__main__':
    main()
