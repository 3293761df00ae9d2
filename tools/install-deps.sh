#!/usr/bin/env bash
# Installs the system packages CRFS's tests and benchmarks use, only when one is missing.
# Idempotent and quiet when everything is present. Needs root (or sudo) to install.
set -euo pipefail

need=()
command -v mkfs.btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
command -v fusermount3 >/dev/null 2>&1 || need+=(fuse3)
command -v xxd >/dev/null 2>&1 || need+=(xxd)
command -v attr >/dev/null 2>&1 || need+=(attr)
command -v mkfifo >/dev/null 2>&1 || need+=(coreutils)
# The Linux source tarball: the untar test through a mount (tests/Crfs.Mount.Tests/LinuxTreeTests.cs)
# needs it and only root can mount, so root always gets it; the benchmarks use it too.
if [ "$(id -u)" = 0 ] || [ "${CRFS_BENCH_DEPS:-0}" = 1 ]; then
  [ -e /usr/src/linux-source-6.1.tar.xz ] || need+=(linux-source-6.1)
fi
if [ "${CRFS_BENCH_DEPS:-0}" = 1 ]; then
  command -v bindfs >/dev/null 2>&1 || need+=(bindfs)
  command -v sshfs >/dev/null 2>&1 || need+=(sshfs)
  command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
fi

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "install-deps: installing ${need[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# The kernel pieces the differential tests use; absent modules make those tests skip, not fail.
if [ "$(id -u)" = 0 ]; then
  modprobe btrfs 2>/dev/null || true
  modprobe fuse 2>/dev/null || true
  modprobe loop 2>/dev/null || true
fi
