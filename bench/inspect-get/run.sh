#!/usr/bin/env bash
# Reader benchmark: `crfs inspect get IMG / DEST` (user-space reader, Release build) against the
# kernel (loop-mount the same image read-only, `cp -a MNT/. DEST2`), cold caches for every run.
#
# The tree is the Linux 6.1 source (Debian's linux-source-6.1, ~75,000 files), packed once into a
# btrfs image with `mkfs.btrfs --rootdir`. Each side runs RUNS times (default 3), alternating, each
# after `sync` and `echo 3 > /proc/sys/vm/drop_caches`; the table shows every run, the medians and
# get/cp. The kernel side is timed from losetup to umount, the same work `get` does on its own
# (open the image, read it, write the copy). Neither side syncs its copy.
#
# Needs root. Environment: RUNS (3), CRFS_BENCH_DIR (/tmp/crfs-bench-inspect-get; the extracted
# tree and the image are kept there between runs), VERIFY=1 to diff the two copies afterwards,
# CRFS_CLI_DLL to time an already built crfs.dll instead of building src/Crfs.Cli in Release.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${CRFS_BENCH_DIR:-/tmp/crfs-bench-inspect-get}"
runs="${RUNS:-3}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ "$(id -u)" != 0 ]; then
  echo "inspect-get bench: needs root (loop mounts, drop_caches)" >&2
  exit 1
fi

"$repo/tools/install-deps.sh"
if [ ! -e /usr/src/linux-source-6.1.tar.xz ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-source-6.1 >&2
fi

mkdir -p "$work"
src="$work/linux-source-6.1"
if [ ! -d "$src" ]; then
  echo "extracting the Linux 6.1 source into $src" >&2
  tar -xf /usr/src/linux-source-6.1.tar.xz -C "$work"
fi

img="$work/linux-6.1.img"
if [ ! -e "$img" ]; then
  # Size to fit: the tree's bytes plus half again for metadata (DUP) and slack, at least 1 GiB.
  bytes=$(du -sb "$src" | cut -f1)
  size=$(( bytes * 3 / 2 + (512 << 20) ))
  [ "$size" -ge $((1 << 30)) ] || size=$((1 << 30))
  echo "building $img ($((size >> 20)) MiB, mkfs.btrfs --rootdir)" >&2
  truncate -s "$size" "$img.tmp"
  mkfs.btrfs -q -f --rootdir "$src" "$img.tmp" >/dev/null
  mv "$img.tmp" "$img"
fi

if [ -n "${CRFS_CLI_DLL:-}" ]; then
  crfs_dll="$CRFS_CLI_DLL"
else
  echo "building crfs (Release)" >&2
  dotnet build "$repo/src/Crfs.Cli/Crfs.Cli.csproj" -c Release --nologo -v q >&2
  crfs_dll="$repo/src/Crfs.Cli/bin/Release/net10.0/crfs.dll"
fi

dest="$work/dest-get"
dest2="$work/dest-cp"
mnt="$work/mnt"
mkdir -p "$mnt"
loop=""
cleanup() {
  if mountpoint -q "$mnt"; then umount "$mnt"; fi
  if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
}
trap cleanup EXIT

cold() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
}

now() { date +%s.%N; }

run_get() {
  rm -rf "$dest"
  cold
  local t0 t1
  t0=$(now)
  dotnet "$crfs_dll" inspect get "$img" / "$dest" >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

run_cp() {
  rm -rf "$dest2"
  mkdir -p "$dest2"
  cold
  local t0 t1
  t0=$(now)
  loop=$(losetup -f --show -r "$img")
  mount -t btrfs -o ro "$loop" "$mnt"
  cp -a "$mnt/." "$dest2"
  umount "$mnt"
  losetup -d "$loop"
  loop=""
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

files=$(find "$src" | wc -l)
get_times=()
cp_times=()
for i in $(seq 1 "$runs"); do
  get_times+=("$(run_get)")
  cp_times+=("$(run_cp)")
  echo "run $i: get ${get_times[-1]} s, cp -a ${cp_times[-1]} s" >&2
done

if [ "${VERIFY:-0}" = 1 ]; then
  diff -r --no-dereference "$dest" "$dest2" >/dev/null && echo "copies identical (diff -r)" >&2
fi

get_median=$(median "${get_times[@]}")
cp_median=$(median "${cp_times[@]}")
ratio=$(awk -v a="$get_median" -v b="$cp_median" 'BEGIN { printf "%.2f", a / b }')

echo
echo "Linux 6.1 source: $files entries, $(du -sh --apparent-size "$src" | cut -f1) in $img"
printf '%-34s %s\n' "" "$(for i in $(seq 1 "$runs"); do printf 'run %-6s' "$i"; done)median"
printf '%-34s ' "crfs inspect get IMG / DEST"
for t in "${get_times[@]}"; do printf '%-10.2f' "$t"; done
printf '%.2f s\n' "$get_median"
printf '%-34s ' "mount -o ro + cp -a MNT/. DEST2"
for t in "${cp_times[@]}"; do printf '%-10.2f' "$t"; done
printf '%.2f s\n' "$cp_median"
echo "ratio get / cp -a: $ratio (aim: <= 1.5)"
rm -rf "$dest" "$dest2"
