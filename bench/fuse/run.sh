#!/usr/bin/env bash
# FUSE layer benchmark (docs/benchmarks.md, section "FUSE layer").
#
# In one run, for each variant: untar the Linux 6.1 source into it, stat every entry (warm),
# drop caches, cat every file (cold), rm -rf the tree. Variants:
#   plain       the backing directory itself (no FUSE)
#   bindfs      Debian's bindfs over a backing directory
#   crfs        Crfs.Bench.Passthrough over /dev/fuse
#   crfs-wb     the same with the kernel writeback cache
#   crfs-uring  the same over FUSE-over-io_uring (only if the kernel offers it)
# Rounds interleave the variants (one of each per round) so that machine noise spreads evenly;
# the table reports the median of the rounds. Requests per file come from the passthrough's
# counters (SIGUSR1 snapshots between phases).
#
# Needs root (mount, drop_caches), bindfs and linux-source-6.1:
#   CRFS_BENCH_DEPS=1 tools/install-deps.sh
# Usage: bench/fuse/run.sh [ROUNDS]        (default 1; variants: VARIANTS="plain crfs ...")
# Backing directories live under $CRFS_BENCH_DIR (default /var/tmp/crfs-bench-fuse, the root disk).
# Timed sections run under the machine-wide lock /tmp/crfs-bench.lock (flock).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-1}
WORK=${CRFS_BENCH_DIR:-/var/tmp/crfs-bench-fuse}
TARBALL=/usr/src/linux-source-6.1.tar.xz
TAR=${CRFS_BENCH_TAR:-/dev/shm/crfs-bench-linux-6.1.tar}  # override only to smoke-test the script
URING_PARAM=/sys/module/fuse/parameters/enable_uring
VARIANTS=${VARIANTS:-"plain bindfs crfs crfs-wb crfs-uring"}
PT_DLL="$ROOT/bench/Crfs.Bench.Passthrough/bin/Release/net10.0/Crfs.Bench.Passthrough.dll"
RESULTS="$WORK/results"

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (mount, drop_caches)" >&2; exit 1; }
command -v bindfs >/dev/null || { echo "run.sh: bindfs missing (CRFS_BENCH_DEPS=1 tools/install-deps.sh)" >&2; exit 1; }
[ -e "$TARBALL" ] || { echo "run.sh: $TARBALL missing (apt-get install linux-source-6.1)" >&2; exit 1; }

# One benchmark at a time on this machine: wait for anyone else holding the lock.
exec 9>/tmp/crfs-bench.lock
flock 9

# --- setup, not timed ---------------------------------------------------------------------
dotnet build -c Release -v q --nologo "$ROOT/bench/Crfs.Bench.Passthrough/Crfs.Bench.Passthrough.csproj" >&2
if [ ! -s "$TAR" ]; then
  echo "run.sh: decompressing $TARBALL to $TAR" >&2
  xz -dc "$TARBALL" > "$TAR.part" && mv "$TAR.part" "$TAR"
fi

uring_was=$(cat "$URING_PARAM" 2>/dev/null || echo N)
case " $VARIANTS " in
  *" crfs-uring "*)
    if [ -w "$URING_PARAM" ]; then echo Y > "$URING_PARAM"; else VARIANTS=${VARIANTS/crfs-uring/}; fi ;;
esac

rm -rf "$WORK"; mkdir -p "$RESULTS"
tar -tf "$TAR" > "$WORK/names"
ENTRIES=$(wc -l < "$WORK/names")
TOP=$(head -1 "$WORK/names" | cut -d/ -f1)
PT_PID=""
MNT=""
cleanup() {
  [ -n "$MNT" ] && mountpoint -q "$MNT" && umount -l "$MNT" || true
  [ -n "$PT_PID" ] && kill "$PT_PID" 2>/dev/null || true
  [ -w "$URING_PARAM" ] && echo "$uring_was" > "$URING_PARAM" || true
}
trap cleanup EXIT

now() { date +%s.%N; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }
snapshot() { # FILE: ask the passthrough for its counters and wait until they land
  [ -n "$PT_PID" ] || return 0
  rm -f "$WORK/counters"
  kill -USR1 "$PT_PID"
  for _ in $(seq 100); do [ -s "$WORK/counters" ] && break; sleep 0.05; done
  cp "$WORK/counters" "$1"
}

mount_variant() { # VARIANT DIR -> sets MNT (and PT_PID)
  local v=$1 d=$2
  mkdir -p "$d/src" "$d/mnt"
  PT_PID=""
  case $v in
    plain) MNT="$d/src"; return ;;
    bindfs) bindfs "$d/src" "$d/mnt" ;;
    crfs) dotnet "$PT_DLL" "$d/src" "$d/mnt" --counters "$WORK/counters" >"$d/daemon.log" 2>&1 & PT_PID=$! ;;
    crfs-wb) dotnet "$PT_DLL" "$d/src" "$d/mnt" --writeback --counters "$WORK/counters" >"$d/daemon.log" 2>&1 & PT_PID=$! ;;
    crfs-uring) dotnet "$PT_DLL" "$d/src" "$d/mnt" --uring --counters "$WORK/counters" >"$d/daemon.log" 2>&1 & PT_PID=$! ;;
  esac
  MNT="$d/mnt"
  for _ in $(seq 200); do mountpoint -q "$MNT" && return; sleep 0.05; done
  echo "run.sh: $v did not mount" >&2; cat "$d/daemon.log" >&2 || true; exit 1
}

unmount_variant() {
  local v=$1
  [ "$v" = plain ] && return
  umount "$MNT"
  [ -n "$PT_PID" ] && wait "$PT_PID" || true
  PT_PID=""
}

# --- the timed phases ---------------------------------------------------------------------
for round in $(seq "$ROUNDS"); do
  for v in $VARIANTS; do
    d="$WORK/$v"
    rm -rf "$d"
    mount_variant "$v" "$d"
    out="$RESULTS/$v.$round"
    drop
    snapshot "$out.c0"

    t0=$(now); tar -C "$MNT" -xf "$TAR"; t1=$(now)
    snapshot "$out.c1"

    # Warm stat of every entry, twice (the attribute cache at work).
    t2=$(now)
    python3 - "$MNT" "$WORK/names" <<'PY'
import os, sys
root = sys.argv[1]
names = open(sys.argv[2]).read().splitlines()
for _ in range(2):
    for n in names:
        os.lstat(os.path.join(root, n))
PY
    t3=$(now)
    snapshot "$out.c2"

    drop
    t4=$(now); (cd "$MNT" && find "$TOP" -type f -print0 | xargs -0 cat >/dev/null); t5=$(now)
    snapshot "$out.c3"
    FILES=$(cd "$MNT" && find "$TOP" -type f | wc -l)

    t6=$(now); rm -rf "${MNT:?}/$TOP"; t7=$(now)
    snapshot "$out.c4"
    daemon_cpu="-"
    if [ -n "$PT_PID" ]; then
      daemon_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$PT_PID/stat")
    fi
    unmount_variant "$v"
    leftover=$(find "$d/src" -mindepth 1 | wc -l)

    echo "round $round $v: load average $(cut -d' ' -f1-3 /proc/loadavg) (after), daemon CPU $daemon_cpu s" >> "$RESULTS/load"
    printf '%s %s %s %s %s %s %s\n' "$v" \
      "$(echo "$t1 - $t0" | bc)" "$(echo "$t3 - $t2" | bc)" "$(echo "$t5 - $t4" | bc)" "$(echo "$t7 - $t6" | bc)" \
      "$FILES" "$leftover" >> "$RESULTS/times"
    echo "round $round $v: untar $(echo "$t1 - $t0" | bc)s stat $(echo "$t3 - $t2" | bc)s cat $(echo "$t5 - $t4" | bc)s rm $(echo "$t7 - $t6" | bc)s" >&2
    rm -rf "$d"
  done
done

# --- report -------------------------------------------------------------------------------
echo "Load during the run (2 vCPUs; other work on the machine was not stopped):"
cat "$RESULTS/load"
echo
python3 - "$RESULTS" "$ENTRIES" <<'PY'
import collections, glob, os, statistics, sys
results, entries = sys.argv[1], int(sys.argv[2])
runs = collections.defaultdict(list)
files = {}
for line in open(os.path.join(results, "times")):
    v, u, s, c, r, f, left = line.split()
    runs[v].append(tuple(map(float, (u, s, c, r))))
    files[v] = int(f)
    if int(left):
        print(f"WARNING: {v} left {left} entries behind")
order = [v for v in ["plain", "bindfs", "crfs", "crfs-wb", "crfs-uring"] if v in runs]
med = {v: [statistics.median(x[i] for x in runs[v]) for i in range(4)] for v in order}
print(f"Linux 6.1 source: {entries} entries; rounds: {len(next(iter(runs.values())))}; seconds, median")
print()
print("| variant | untar | stat ×2 | cat (cold) | rm -rf | total | vs bindfs | vs plain |")
print("|---|---|---|---|---|---|---|---|")
for v in order:
    u, s, c, r = med[v]
    total = u + s + c + r
    b = sum(med["bindfs"]) if "bindfs" in med else None
    p = sum(med["plain"]) if "plain" in med else None
    vb = f"{total / b:.2f}×" if b else "–"
    vp = f"{total / p:.1f}×" if p else "–"
    print(f"| {v} | {u:.1f} | {s:.1f} | {c:.1f} | {r:.1f} | **{total:.1f}** | {vb} | {vp} |")
if "bindfs" in med:
    print()
    print("| variant | untar | stat | cat | rm | (step time ÷ bindfs step time) |")
    print("|---|---|---|---|---|---|")
    for v in order:
        if v.startswith("crfs"):
            print(f"| {v} | " + " | ".join(f"{med[v][i] / med['bindfs'][i]:.2f}" for i in range(4)) + " | |")

def counters(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            k, n = line.split()
            d[k] = int(n)
    return d

for v in order:
    if not v.startswith("crfs"):
        continue
    snaps = [counters(os.path.join(results, f"{v}.1.c{i}")) for i in range(5)]
    n = files[v]
    print()
    print(f"Requests per regular file ({n} files), {v}, round 1:")
    phases = ["untar", "stat", "cat", "rm"]
    keys = sorted({k for s in snaps for k in s if k not in ("TOTAL", "ERRORS", "NODES", "RING")})
    print("| opcode | " + " | ".join(phases) + " |")
    print("|---|" + "---|" * len(phases))
    for k in keys + ["TOTAL", "RING", "ERRORS"]:
        row = [(snaps[i + 1].get(k, 0) - snaps[i].get(k, 0)) / n for i in range(4)]
        if any(row):
            print(f"| {k} | " + " | ".join(f"{x:.2f}" for x in row) + " |")
PY
