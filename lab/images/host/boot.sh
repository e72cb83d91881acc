#!/bin/sh
# First boot of a lab host, as a provider's image does it (cloud-init's part on a real VPS): host
# keys made on this host, root's authorized key from the order (CLAWD_LAB_ROOT_KEY), then sshd
# in the foreground on this host's own loopback address (CLAWD_LAB_SSH_LISTEN). Every other sshd
# setting is Debian's default (root login by key only) or what provisioning writes; a SIGHUP
# (reload) re-reads them.
set -eu
: "${CLAWD_LAB_SSH_LISTEN:?set CLAWD_LAB_SSH_LISTEN to the address of this host}"
ssh-keygen -A >/dev/null
case ${CLAWD_LAB_ROOT_KEY:-} in ssh-*) root_key=$CLAWD_LAB_ROOT_KEY ;; *) root_key= ;; esac
if [ -n "$root_key" ] && [ ! -s /root/.ssh/authorized_keys ]; then
  install -d -m 0700 /root/.ssh
  printf "%s\n" "$root_key" >/root/.ssh/authorized_keys
  chmod 0600 /root/.ssh/authorized_keys
fi
install -d -m 0755 /run/sshd
exec /usr/sbin/sshd -D -e -o "ListenAddress=$CLAWD_LAB_SSH_LISTEN"
