#!/usr/bin/env bash
# Regenerates src/Crfs.Cli/Resources/sample-volume.img.gz, the embedded default volume that
# `crfs up` starts from when no volume exists yet. Made by mkfs.btrfs (btrfs-progs) from
# tools/sample-volume/, so the very first thing CRFS serves is a volume it did not write itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../src/Crfs.Cli/Resources/sample-volume.img.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$here/sample-volume" "$work/root"
# Deterministic owners and times so regenerating gives the same tree.
chown -R 0:0 "$work/root"
find "$work/root" -exec touch -h -d '2026-11-26 12:00:00 UTC' {} +
truncate -s 128M "$work/vol.img"
mkfs.btrfs -q -L crfs-sample --rootdir "$work/root" "$work/vol.img"
mkdir -p "$(dirname "$out")"
gzip -9n < "$work/vol.img" > "$out"
ls -l "$out"
