#!/usr/bin/env bash
# Coherence benchmark (docs/benchmarks.md, section "Coherence"): two mounts of one `crfs serve`,
# on this machine, over loopback TCP. Three experiments:
#   (a) untar alone vs two at once: mount A untars the Linux 6.1 source into its own directory
#       alone; then A and B untar at the same time, each into its own directory. Disjoint
#       directories should not contend, except where both touch the root directory's lock group.
#   (b) ping-pong: A and B alternately append one line to the same file, N times in all
#       (default 10,000; PINGPONG_N=200 for a quick run). Every turn takes the file's write lock
#       away from the other client (revoke, write back, invalidate). Reports appends per second
#       and round trips per append (from `crfs stat --json`), and checks the file holds the N
#       lines in order through both mounts.
#   (c) A untars while B runs `find` over A's growing tree every second: untar time against (a)'s
#       alone, and each find's duration and entry count.
# Each untar is followed by a sync point (`crfs sync`, or fsync of one file when the CLI lacks it).
#
# Needs root and linux-source-6.1 (CRFS_BENCH_DEPS=1 tools/install-deps.sh).
# Usage: bench/coherence/run.sh      (env: PINGPONG_N, EXPERIMENTS="a b c", CRFS_BENCH_DIR,
#                                      CRFS_BENCH_TAR to smoke-test with a small tarball)
# Timed parts run under the machine-wide lock /tmp/crfs-bench.lock (flock).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${CRFS_BENCH_DIR:-/var/tmp/crfs-bench-coherence}
TARBALL=/usr/src/linux-source-6.1.tar.xz
TAR=${CRFS_BENCH_TAR:-/dev/shm/crfs-bench-linux-6.1.tar}
N=${PINGPONG_N:-10000}
EXPERIMENTS=${EXPERIMENTS:-"a b c"}
IMAGE_SIZE=${CRFS_BENCH_IMAGE_SIZE:-16G}
PORT=${CRFS_BENCH_PORT:-7433}
CRFS_DLL="$ROOT/src/Crfs.Cli/bin/Release/net10.0/crfs.dll"

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (mount)" >&2; exit 1; }
[ -e "$TARBALL" ] || [ -s "$TAR" ] || { echo "run.sh: $TARBALL missing (apt-get install linux-source-6.1)" >&2; exit 1; }

# Daemons started below close fd 9 (9>&-) so that none outlives the run holding the lock.
exec 9>/tmp/crfs-bench.lock
flock 9

dotnet build -c Release -v q --nologo "$ROOT/src/Crfs.Cli/Crfs.Cli.csproj" >&2 9>&-
if [ ! -s "$TAR" ]; then
  echo "run.sh: decompressing $TARBALL to $TAR" >&2
  xz -T2 -dc "$TARBALL" > "$TAR.part" && mv "$TAR.part" "$TAR"
fi
crfs() { dotnet "$CRFS_DLL" "$@"; }
rm -rf "$WORK"; mkdir -p "$WORK"
tar -tf "$TAR" > "$WORK/names"
ENTRIES=$(wc -l < "$WORK/names")
TOP=$(head -1 "$WORK/names" | cut -d/ -f1)
A="$WORK/mnt-a"; B="$WORK/mnt-b"
SERVE_PID=""; PID_A=""; PID_B=""; LOGS=""
cleanup() {
  set +e
  for m in "$A" "$B"; do mountpoint -q "$m" && umount -l "$m"; done
  for p in $PID_A $PID_B; do kill "$p" 2>/dev/null; done
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
}
trap cleanup EXIT

# Each experiment runs on its own fresh volume, server and pair of mounts, so that one experiment
# that breaks the stack (a refused commit, a read-only volume) does not take the others with it.
start_stack() { # NAME
  LOGS="$WORK/$1"; mkdir -p "$LOGS" "$A" "$B"
  truncate -s "$IMAGE_SIZE" "$WORK/vol.img"
  mkfs.btrfs -q -f "$WORK/vol.img" > /dev/null
  dotnet "$CRFS_DLL" serve "$WORK/vol.img" --listen "127.0.0.1:$PORT" > "$LOGS/serve.log" 2>&1 9>&- & SERVE_PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$LOGS/serve.log" && break; sleep 0.1; done
  dotnet "$CRFS_DLL" mount "127.0.0.1:$PORT" "$A" --foreground > "$LOGS/mount-a.log" 2>&1 9>&- & PID_A=$!
  dotnet "$CRFS_DLL" mount "127.0.0.1:$PORT" "$B" --foreground > "$LOGS/mount-b.log" 2>&1 9>&- & PID_B=$!
  for m in "$A" "$B"; do
    for _ in $(seq 300); do mountpoint -q "$m" && break; sleep 0.1; done
    mountpoint -q "$m" || { echo "run.sh: $m did not mount" >&2; cat "$LOGS"/mount-*.log >&2; exit 1; }
  done
}
stop_stack() { # NAME: logs, RSS, unmount, final commits, btrfs check
  report "[$1] server warnings: $(grep -cE ' (warn|fail): ' "$LOGS/serve.log" || true); client warnings: A $(grep -cE ' (warn|fail): ' "$LOGS/mount-a.log" || true), B $(grep -cE ' (warn|fail): ' "$LOGS/mount-b.log" || true)"
  grep -hE ' (warn|fail): ' "$LOGS/serve.log" "$LOGS"/mount-*.log | sed -E 's/^[^ ]+ //; s/[0-9]+/N/g' | cut -c1-400 | sort | uniq -c | sort -rn | head -6 | tee -a "$WORK/report" || true
  hwm() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "-"; }
  report "[$1] peak RSS: server $(hwm "$SERVE_PID") MiB, A $(hwm "$PID_A") MiB, B $(hwm "$PID_B") MiB"
  umount "$A" || umount -l "$A" || true
  umount "$B" || umount -l "$B" || true
  wait "$PID_A" || report "[$1] mount A exited $? (final commit failed?)"
  wait "$PID_B" || report "[$1] mount B exited $? (final commit failed?)"
  PID_A=""; PID_B=""
  kill "$SERVE_PID" 2>/dev/null || report "[$1] crfs serve had already stopped"
  wait "$SERVE_PID" || true; SERVE_PID=""
  if btrfs check --readonly "$WORK/vol.img" > "$LOGS/check.log" 2>&1; then report "[$1] btrfs check: clean"; else report "[$1] btrfs check: FAILED ($LOGS/check.log)"; fi
  rm -f "$WORK/vol.img"
}

now() { date +%s.%N; }
sync_point() { # MOUNT
  crfs sync "$1"
}
untar() { # MOUNT DIR NAME: untar + sync point, prints "seconds tar_exit entries_present"
  local t0 rc=0 src=0 t1
  mkdir -p "$2" 2>/dev/null || true
  t0=$(now)
  tar -C "$2" -xf "$TAR" 2> "$WORK/tar-$3.err" || rc=$?
  sync_point "$1" || src=$?
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc) $rc/$src $( (find "$2/$TOP" 2>/dev/null || true) | wc -l)"
}
total_rt() { # MOUNT: round trips so far (without PING), or - when crfs stat did not answer
  crfs stat "$1" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["roundTrips"]["total"])' 2>/dev/null || echo -
}
report() { echo "$*" | tee -a "$WORK/report"; }

report "sync point: crfs sync MNT; counters: crfs stat --json"
report "tarball: $ENTRIES entries; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ " $EXPERIMENTS " == *" a "* ]]; then
  start_stack a
  read -r t rc n <<<"$(untar "$A" "$A/solo" solo)"
  report "(a) alone: A untar+sync ${t}s (tar/sync exit $rc, $n of $ENTRIES entries)"
  untar "$A" "$A/pa" pa > "$WORK/pa.out" & ja=$!
  untar "$B" "$B/pb" pb > "$WORK/pb.out" & jb=$!
  t0=$(now); wait "$ja" || true; wait "$jb" || true; t1=$(now)
  read -r ta rca na < "$WORK/pa.out"; read -r tb rcb nb < "$WORK/pb.out"
  report "(a) together: A ${ta}s (exit $rca, $na entries), B ${tb}s (exit $rcb, $nb entries), both done after $(echo "$t1 - $t0" | bc)s"
  report "    load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
  stop_stack a
fi

if [[ " $EXPERIMENTS " == *" b "* ]]; then
  start_stack b
  : > "$A/pingpong"
  sync_point "$A" || true
  ra0=$(total_rt "$A"); rb0=$(total_rt "$B")
  t0=$(now)
  pp_rc=0
  python3 - "$A/pingpong" "$B/pingpong" "$N" <<'PY' || pp_rc=$?
import sys
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    with open(a if i % 2 == 0 else b, "a") as f:
        f.write(f"{i}\n")
PY
  t1=$(now)
  ra1=$(total_rt "$A"); rb1=$(total_rt "$B")
  dt=$(echo "$t1 - $t0" | bc)
  check() { python3 -c 'import sys; l=open(sys.argv[1]).read().split("\n")[:-1]; n=int(sys.argv[2]); print("ok" if l==[str(i) for i in range(n)] else f"WRONG: {len(l)} lines, first mismatch at {next((i for i,(x,y) in enumerate(zip(l,map(str,range(n)))) if x!=y), min(len(l),n))}")' "$1" "$N" 2>&1 || true; }
  rt="-"
  [ "$ra0" != - ] && [ "$ra1" != - ] && [ "$rb1" != - ] && rt=$(echo "scale=2; ($ra1 - $ra0 + $rb1 - $rb0) / $N" | bc)
  report "(b) ping-pong: $N appends in ${dt}s = $(echo "scale=0; $N / $dt" | bc) appends/s; round trips per append (A+B): $rt; exit $pp_rc"
  report "    content through A: $(check "$A/pingpong"); through B: $(check "$B/pingpong")"
  stop_stack b
fi

if [[ " $EXPERIMENTS " == *" c "* ]]; then
  start_stack c
  mkdir -p "$A/watched" 2>/dev/null || true
  ( while :; do
      s=$(now); n=$( (find "$B/watched" 2>/dev/null || true) | wc -l); e=$(now)
      echo "$(echo "$e - $s" | bc) $n"; sleep 1
    done ) > "$WORK/finds" 2>&1 & watcher=$!
  read -r t rc n <<<"$(untar "$A" "$A/watched" watched)"
  kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true
  final=$( (find "$B/watched" 2>/dev/null || true) | wc -l)
  report "(c) A untar+sync while B finds every second: ${t}s (exit $rc, $n entries through A; B sees $final after the sync)"
  report "    finds by B: $(wc -l < "$WORK/finds"); seconds (median / max): $(sort -n "$WORK/finds" | awk '{a[NR]=$1} END {if (NR) printf "%.2f / %.2f", a[int((NR+1)/2)], a[NR]}'); entries seen: $(awk '{print $2}' "$WORK/finds" | tr '\n' ' ' | cut -c1-300)"
  stop_stack c
fi
