#!/usr/bin/env bash
# The mkfs benchmark: copying the Linux 6.1 source tree into a fresh 4 GiB btrfs image three ways,
# each run 3 times, medians and ratios printed at the end (figures go to docs/benchmarks.md).
#   crfs    the writer: format + --rootdir import (bench/mkfs/Crfs.Bench.Mkfs = `crfs mkfs --rootdir`)
#   mkfs    mkfs.btrfs --rootdir (btrfs-progs)
#   kernel  mkfs.btrfs, loop mount, `tar -c | tar -x` of the tree into it, sync, umount
# The tree is extracted from /usr/src/linux-source-6.1.tar.xz once, outside the timed part
# (apt-get install -y linux-source-6.1). Needs root. Usage: bench/mkfs/run.sh [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-/tmp/crfs-bench-mkfs}"
size=$((4 << 30))
mkdir -p "$work/src"
src="$work/src/linux-source-6.1"
if [ ! -d "$src" ]; then
  tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$work/src"
fi
dotnet build "$here/Crfs.Bench.Mkfs" -c Release --nologo -v q >/dev/null
bench="$here/Crfs.Bench.Mkfs/bin/Release/net10.0/Crfs.Bench.Mkfs.dll"
img="$work/bench.img"
mnt="$work/mnt"
mkdir -p "$mnt"
# Every run starts with the source in the page cache (GNU tar skips reading when writing to
# /dev/null itself, hence the pipe) and nothing left to write back.
warm() { tar -cf - -C "$src" . | cat > /dev/null; sync; }

now() { date +%s.%N; }
run_crfs() { rm -f "$img"; warm; local t0; t0=$(now); dotnet "$bench" "$img" "$size" "$src" >/dev/null 2>&1; sync; echo "$(now) - $t0" | bc; }
run_mkfs() {
  rm -f "$img"; warm; truncate -s "$size" "$img"; local t0; t0=$(now)
  mkfs.btrfs -q -f --rootdir "$src" "$img" >/dev/null; sync; echo "$(now) - $t0" | bc
}
run_kernel() {
  rm -f "$img"; warm; truncate -s "$size" "$img"; local t0; t0=$(now)
  mkfs.btrfs -q -f "$img" >/dev/null
  local dev; dev=$(losetup -f --show "$img")
  mount -t btrfs "$dev" "$mnt"
  tar -cf - -C "$src" . | tar -xf - -C "$mnt"
  sync; umount "$mnt"; losetup -d "$dev"; echo "$(now) - $t0" | bc
}
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

declare -a c m k
for i in 1 2 3; do
  c+=("$(run_crfs)"); m+=("$(run_mkfs)"); k+=("$(run_kernel)")
  echo "run $i: crfs ${c[-1]} s, mkfs.btrfs ${m[-1]} s, kernel ${k[-1]} s" >&2
done
btrfs check --readonly "$img" >/dev/null 2>&1 && echo "last kernel image: btrfs check clean" >&2
run_crfs >/dev/null
btrfs check --readonly "$img" >/dev/null 2>&1 && echo "crfs image: btrfs check clean" >&2 || echo "crfs image: btrfs check FAILED" >&2
mc=$(median "${c[@]}"); mm=$(median "${m[@]}"); mk=$(median "${k[@]}")
files=$(find "$src" | wc -l); bytes=$(du -sb "$src" | cut -f1)
echo "tree: linux-source-6.1, $files entries, $bytes bytes; image 4 GiB; medians of 3"
printf 'crfs mkfs --rootdir     %8.2f s\n' "$mc"
printf 'mkfs.btrfs --rootdir    %8.2f s  (crfs / mkfs.btrfs = %.2f)\n' "$mm" "$(echo "$mc / $mm" | bc -l)"
printf 'kernel extract + sync   %8.2f s  (crfs / kernel     = %.2f)\n' "$mk" "$(echo "$mc / $mk" | bc -l)"
rm -f "$img"
