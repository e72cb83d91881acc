# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/server_setup/tasks/swap.yml run for real in a throwaway lab host container (no network, docker connection).

A container cannot swapon, so the role's capability flag says so and that task is skipped; everything else runs:
the swap file is written, checked, formatted and put in place, /etc/fstab and /etc/sysctl.d are written inside the
container. The swap file's path holds a space and a ``;`` (nothing is split or run by a shell), and a swap file that
an earlier run left cut short (no swap signature, too small) is made again rather than taken as done.
"""

import os
import re
import shlex
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
IMAGE = os.environ.get("CLAWD_IMAGE_HOST") or "clawd-lab-host:latest"
SIZE_MB = 8
SWAP_DIR = "/srv/swap dir;touch /srv/INJECTED;"
SWAP_FILE = SWAP_DIR + "/swap file"

PLAY = """
- name: Run the swap tasks of server_setup
  hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
    server_setup_swap_min_memory_mb: 1048576
    server_setup_swap_file: %(file)s
    server_setup_swap_size_mb: %(size)d
    server_setup_swap_swappiness: 10
  tasks:
    - name: Read how much memory the host has
      ansible.builtin.setup:
        gather_subset: ['!all', '!min', hardware]
        filter: ansible_memtotal_mb
    - name: Say what the host can do, as the role's detection would in a container
      ansible.builtin.set_fact:
        __server_setup_caps: {swapon: false, sysctl: false}
        __server_setup_report: []
        __server_setup_where: ' (in a container)'
    - name: Run the swap tasks
      ansible.builtin.import_tasks: %(tasks)s
    - name: Show the swap outcome
      ansible.builtin.debug:
        var: __server_setup_report
"""


def _docker(*args, **kwargs):
    return subprocess.run(["docker"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=kwargs.get("check", True)).stdout


@pytest.fixture
def host(tmp_path):
    try:
        _docker("image", "inspect", IMAGE)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no lab host image %s (scripts/lab up builds it)" % IMAGE)
    name = "clawd-swaptest-%s" % uuid.uuid4().hex[:10]
    _docker("run", "-d", "--rm", "--name", name, "--network", "none", "--entrypoint", "sleep", IMAGE, "infinity")
    try:
        _docker("exec", name, "mkdir", "-p", SWAP_DIR)
        yield name
    finally:
        _docker("rm", "-f", name, check=False)


def run_swap(tmp_path, host, check=False, path=SWAP_FILE):
    playbook = tmp_path / "swap.yml"
    playbook.write_text(PLAY % {"file": '"%s"' % path, "size": SIZE_MB,
                                "tasks": os.path.join(ROOT, "roles", "server_setup", "tasks", "swap.yml")})
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\ncollections_path = %s\nretry_files_enabled = false\n"
                      % os.path.join(ROOT, ".lab", "collections"))
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [PLAYBOOK, "-i", "%s," % host, "-c", "community.docker.docker", str(playbook)] + (["--check"] if check else [])
    done = subprocess.run(command, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    recap = re.search(r"changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", done.stdout)
    return done, (int(recap.group(1)), int(recap.group(3))) if recap else (None, None)


def in_host(host, script):
    return _docker("exec", host, "sh", "-c", script, check=False)


def swap_state(host, path=SWAP_FILE):
    quoted = shlex.quote(path)
    return {
        "size": in_host(host, "stat -c %%s %s 2>/dev/null" % quoted).strip(),
        "mode": in_host(host, "stat -c %%a %s 2>/dev/null" % quoted).strip(),
        "type": in_host(host, "blkid -o value -s TYPE %s" % quoted).strip(),
        "partial": in_host(host, "test -e %s.partial && echo yes || echo no" % quoted).strip(),
        "injected": in_host(host, "test -e /srv/INJECTED && echo yes || echo no").strip(),
        "fstab": in_host(host, "cat /etc/fstab"),
    }


def test_a_path_with_a_space_and_a_semicolon_is_one_path_never_a_command(tmp_path, host):
    done, (changed, failed) = run_swap(tmp_path, host)
    state = swap_state(host)
    assert state["injected"] == "no", "the swap file's path ran as a shell command"
    assert failed == 0, done.stdout[-3000:]
    assert state["size"] == str(SIZE_MB * 1048576) and state["type"] == "swap" and state["mode"] == "600", state
    assert state["partial"] == "no"
    assert "/srv/swap\\040dir;touch\\040/srv/INJECTED;/swap\\040file none swap sw" in state["fstab"]
    again, (changed, failed) = run_swap(tmp_path, host)
    assert (changed, failed) == (0, 0), again.stdout[-3000:]


def test_a_swap_file_cut_short_is_made_again_not_taken_as_done(tmp_path, host):
    path = "/srv/swapfile"
    in_host(host, "dd if=/dev/zero of=%s bs=1M count=1 status=none" % path)  # what a dd killed after 1 MB leaves
    done, (changed, failed) = run_swap(tmp_path, host, path=path)
    assert failed == 0, done.stdout[-3000:]
    state = swap_state(host, path)
    assert state["size"] == str(SIZE_MB * 1048576), "the short file was kept: %s" % state
    assert state["type"] == "swap"


def test_an_existing_swap_file_is_kept_as_it_is(tmp_path, host):
    quoted = shlex.quote(SWAP_FILE)
    in_host(host, "dd if=/dev/zero of=%s bs=1M count=2 status=none && mkswap %s >/dev/null" % (quoted, quoted))
    done, (changed, failed) = run_swap(tmp_path, host)
    assert failed == 0, done.stdout[-3000:]
    assert swap_state(host)["size"] == str(2 * 1048576)  # documented: a new size is not applied to an existing swap file


def test_check_mode_writes_no_swap_file(tmp_path, host):
    done, (changed, failed) = run_swap(tmp_path, host, check=True)
    assert failed == 0, done.stdout[-3000:]
    state = swap_state(host)
    assert state["size"] == "" and state["partial"] == "no" and state["injected"] == "no"
