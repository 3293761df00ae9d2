#!/usr/bin/env bash
# End-to-end benchmark (docs/benchmarks.md, section "End to end"): the reference workload of
# issue #5 on CRFS and on three references.
#
# Workload, per variant and round (each on a fresh, empty file system):
#   untar+sync   tar -xf of the Linux 6.1 source, then a sync point: `crfs sync MNT` on crfs (commits
#                everything the client holds and waits until durable); `sync` on the others
#   cat (cold)   drop the kernel's caches, then find -type f | xargs cat > /dev/null
#   rm -rf       of the tree
# Variants:
#   crfs         `crfs serve` on a sparse image file on the root disk + `crfs mount` over loopback TCP
#   btrfs        the kernel's btrfs on a loop device over the same kind of sparse image
#   sshfs        sshfs over loopback to a directory (a private sshd on its own port and keys,
#                -o Compression=no; the system's sshd and its config are never touched)
#   passthrough  bench/Crfs.Bench.Passthrough (the FUSE layer alone) over a directory
# Rounds interleave the variants; the tables report medians. Requests per file by opcode come
# from `crfs stat --json` (crfs) and SIGUSR1 counter snapshots (passthrough); sshfs offers none.
# Peak RSS (VmHWM) is read from /proc just before each daemon is stopped.
#
# What "cold" means for crfs: drop_caches empties the kernel's page, dentry and inode caches on
# both sides (the FUSE mount's and the server's view of the image), but the crfs client's item
# cache lives in the mount process and stays warm. Every file's data is read again from the
# server (DATA_READ), whose reads of the image hit the disk.
#
# Needs root, mkfs.btrfs, linux-source-6.1, sshfs and openssh-server:
#   CRFS_BENCH_DEPS=1 tools/install-deps.sh
# Usage: bench/e2e/run.sh [ROUNDS]     (default 1; VARIANTS="crfs btrfs sshfs passthrough")
# Work files under $CRFS_BENCH_DIR (default /var/tmp/crfs-bench-e2e, the root disk). Timed parts run
# under the machine-wide lock /tmp/crfs-bench.lock (flock).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-1}
WORK=${CRFS_BENCH_DIR:-/var/tmp/crfs-bench-e2e}
TARBALL=/usr/src/linux-source-6.1.tar.xz
TAR=${CRFS_BENCH_TAR:-/dev/shm/crfs-bench-linux-6.1.tar}  # override only to smoke-test the script
VARIANTS=${VARIANTS:-"crfs btrfs sshfs passthrough"}
IMAGE_SIZE=${CRFS_BENCH_IMAGE_SIZE:-8G}
CRFS_PORT=${CRFS_BENCH_PORT:-7431}
SSH_PORT=${CRFS_BENCH_SSH_PORT:-7432}
CRFS_DLL="$ROOT/src/Crfs.Cli/bin/Release/net10.0/crfs.dll"
PT_DLL="$ROOT/bench/Crfs.Bench.Passthrough/bin/Release/net10.0/Crfs.Bench.Passthrough.dll"
RESULTS="$WORK/results"

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (mount, losetup, drop_caches)" >&2; exit 1; }
[ -e "$TARBALL" ] || [ -s "$TAR" ] || { echo "run.sh: $TARBALL missing (apt-get install linux-source-6.1)" >&2; exit 1; }
case " $VARIANTS " in *" sshfs "*)
  command -v sshfs >/dev/null && [ -x /usr/sbin/sshd ] \
    || { echo "run.sh: sshfs/sshd missing (CRFS_BENCH_DEPS=1 tools/install-deps.sh)" >&2; exit 1; } ;;
esac

# Daemons started below close fd 9 (9>&-) so that none outlives the run holding the lock.
exec 9>/tmp/crfs-bench.lock
flock 9

# --- setup, not timed ---------------------------------------------------------------------
dotnet build -c Release -v q --nologo "$ROOT/src/Crfs.Cli/Crfs.Cli.csproj" >&2 9>&-
dotnet build -c Release -v q --nologo "$ROOT/bench/Crfs.Bench.Passthrough/Crfs.Bench.Passthrough.csproj" >&2 9>&-
if [ ! -s "$TAR" ]; then
  echo "run.sh: decompressing $TARBALL to $TAR" >&2
  xz -T2 -dc "$TARBALL" > "$TAR.part" && mv "$TAR.part" "$TAR"
fi
crfs() { dotnet "$CRFS_DLL" "$@"; }

rm -rf "$WORK"; mkdir -p "$RESULTS"
tar -tf "$TAR" > "$WORK/names"
ENTRIES=$(wc -l < "$WORK/names")
REGULAR=$(tar -tvf "$TAR" | grep -c '^-')  # requests are counted per regular file of the tarball
TOP=$(head -1 "$WORK/names" | cut -d/ -f1)

# Private sshd: own host key, own client key, own port, own config; never the system's.
if [[ " $VARIANTS " == *" sshfs "* ]]; then
  mkdir -p "$WORK/ssh" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/client_key"
  cp "$WORK/ssh/client_key.pub" "$WORK/ssh/authorized_keys"
  cat > "$WORK/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $WORK/ssh/host_key
AuthorizedKeysFile $WORK/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $WORK/ssh/sshd.pid
Subsystem sftp internal-sftp
EOF
  /usr/sbin/sshd -f "$WORK/ssh/sshd_config" -E "$WORK/ssh/sshd.log" 9>&-
fi

SERVE_PID=""; DAEMON_PID=""; MNT=""; LOOP=""
cleanup() {
  set +e
  [ -n "$MNT" ] && mountpoint -q "$MNT" && umount -l "$MNT"
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  [ -n "$LOOP" ] && losetup -d "$LOOP"
  [ -s "$WORK/ssh/sshd.pid" ] && kill "$(cat "$WORK/ssh/sshd.pid")"
}
trap cleanup EXIT

now() { date +%s.%N; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }
hwm() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "-"; }
wait_mounted() {
  for _ in $(seq 300); do mountpoint -q "$MNT" && return 0; sleep 0.1; done
  echo "run.sh: $1 did not mount" >&2; cat "$2" >&2 || true; exit 1
}

snapshot() { # VARIANT FILE: counters of the FUSE daemon, if it offers them
  case $1 in
    crfs) crfs stat "$MNT" --json > "$2" 2>/dev/null || true ;;
    passthrough)
      rm -f "$WORK/counters"; kill -USR1 "$DAEMON_PID"
      for _ in $(seq 100); do [ -s "$WORK/counters" ] && break; sleep 0.05; done
      cp "$WORK/counters" "$2" ;;
  esac
}

sync_point() { # VARIANT
  if [ "$1" != crfs ]; then sync; return; fi
  crfs sync "$MNT"
}

mount_variant() { # VARIANT DIR
  local v=$1 d=$2
  mkdir -p "$d/mnt"
  MNT="$d/mnt"; SERVE_PID=""; DAEMON_PID=""; LOOP=""
  case $v in
    crfs)
      truncate -s "$IMAGE_SIZE" "$d/vol.img"; mkfs.btrfs -q -f "$d/vol.img" >/dev/null
      dotnet "$CRFS_DLL" serve "$d/vol.img" --listen "127.0.0.1:$CRFS_PORT" > "$d/serve.log" 2>&1 9>&- & SERVE_PID=$!
      for _ in $(seq 100); do grep -q "listening on" "$d/serve.log" && break; sleep 0.1; done
      dotnet "$CRFS_DLL" mount "127.0.0.1:$CRFS_PORT" "$MNT" --foreground > "$d/mount.log" 2>&1 9>&- & DAEMON_PID=$!
      wait_mounted crfs "$d/mount.log" ;;
    btrfs)
      truncate -s "$IMAGE_SIZE" "$d/vol.img"; mkfs.btrfs -q -f "$d/vol.img" >/dev/null
      LOOP=$(losetup -f --show "$d/vol.img"); mount "$LOOP" "$MNT" ;;
    sshfs)
      mkdir -p "$d/src"
      sshfs "root@127.0.0.1:$d/src" "$MNT" -p "$SSH_PORT" -o IdentityFile="$WORK/ssh/client_key" \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o Compression=no -o LogLevel=ERROR 9>&-
      DAEMON_PID=$(pgrep -n -f "^sshfs root@127.0.0.1:$d/src" || true) ;;
    passthrough)
      mkdir -p "$d/src"
      dotnet "$PT_DLL" "$d/src" "$MNT" --counters "$WORK/counters" > "$d/daemon.log" 2>&1 9>&- & DAEMON_PID=$!
      wait_mounted passthrough "$d/daemon.log" ;;
  esac
}

unmount_variant() { # VARIANT DIR
  local v=$1 d=$2
  case $v in
    crfs)
      umount "$MNT" || umount -l "$MNT" || true
      wait "$DAEMON_PID" || echo "round $round crfs: crfs mount exited $? (final commit failed?)" >> "$RESULTS/errors"
      kill "$SERVE_PID" 2>/dev/null || echo "round $round crfs: crfs serve had already stopped" >> "$RESULTS/errors"
      wait "$SERVE_PID" || true
      btrfs check --readonly "$d/vol.img" > "$d/check.log" 2>&1 || echo "round $round crfs: btrfs check failed ($RESULTS/crfs.$round.check.log)" >> "$RESULTS/errors" ;;
    btrfs) umount "$MNT"; losetup -d "$LOOP" ;;
    sshfs) umount "$MNT" || umount -l "$MNT" || true ;;
    passthrough) umount "$MNT" || umount -l "$MNT" || true; wait "$DAEMON_PID" || true ;;
  esac
  SERVE_PID=""; DAEMON_PID=""; LOOP=""; MNT=""
}

# --- the timed phases ---------------------------------------------------------------------
echo "sync point on crfs: crfs sync MNT" > "$RESULTS/method"
echo "crfs counters: crfs stat MNT --json" >> "$RESULTS/method"
for round in $(seq "$ROUNDS"); do
  for v in $VARIANTS; do
    d="$WORK/$v"
    rm -rf "$d"; mkdir -p "$d"
    mount_variant "$v" "$d"
    out="$RESULTS/$v.$round"
    drop
    load0=$(cut -d' ' -f1 /proc/loadavg)
    snapshot "$v" "$out.c0"

    t0=$(now)
    tar_rc=0; tar -C "$MNT" -xf "$TAR" 2> "$d/tar.err" || tar_rc=$?
    sync_rc=0; sync_point "$v" || sync_rc=$?
    t1=$(now)
    snapshot "$v" "$out.c1"
    present=$( (cd "$MNT" && find "$TOP") 2>/dev/null | wc -l) || true

    drop
    t2=$(now); (cd "$MNT" && find "$TOP" -type f -print0 | xargs -0 cat > /dev/null 2> "$d/cat.err") || true; t3=$(now)
    snapshot "$v" "$out.c2"
    FILES=$( (cd "$MNT" && find "$TOP" -type f) 2>/dev/null | wc -l) || true

    t4=$(now); rm -rf "${MNT:?}/$TOP" 2> "$d/rm.err" || true; t5=$(now)
    snapshot "$v" "$out.c3"
    rss="-"
    case $v in
      crfs) rss="server $(hwm "$SERVE_PID") MiB, client $(hwm "$DAEMON_PID") MiB" ;;
      passthrough|sshfs) [ -n "$DAEMON_PID" ] && rss="daemon $(hwm "$DAEMON_PID") MiB" ;;
    esac
    unmount_variant "$v" "$d"

    if [ "$tar_rc" != 0 ] || [ "$sync_rc" != 0 ] || [ "$present" != "$ENTRIES" ]; then
      echo "round $round $v: tar exit $tar_rc, sync exit $sync_rc, $present of $ENTRIES entries present after untar; first tar errors:" >> "$RESULTS/errors"
      head -5 "$d/tar.err" | sed 's/^/    /' >> "$RESULTS/errors"
      if [ -f "$d/serve.log" ]; then # the server's reasons for refusing commits, numbers folded
        grep -E ' (warn|fail): ' "$d/serve.log" | sed -E 's/^.*(rejected with|fail:|warn:)/\1/; s/[0-9]+/N/g' \
          | sort | uniq -c | sort -rn | head -5 | sed 's/^/    server:/' >> "$RESULTS/errors" || true
      fi
    fi
    echo "round $round $v: load average $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after; peak RSS $rss" >> "$RESULTS/load"
    printf '%s %s %s %s %s %s\n' "$v" "$(echo "$t1 - $t0" | bc)" "$(echo "$t3 - $t2" | bc)" "$(echo "$t5 - $t4" | bc)" \
      "$FILES" "$([ "$tar_rc" = 0 ] && [ "$sync_rc" = 0 ] && [ "$present" = "$ENTRIES" ] && echo ok || echo FAILED)" >> "$RESULTS/times"
    echo "round $round $v: untar+sync $(echo "$t1 - $t0" | bc)s cat $(echo "$t3 - $t2" | bc)s rm $(echo "$t5 - $t4" | bc)s" >&2
    for f in "$d"/*.log "$d"/*.err; do [ -s "$f" ] && cp "$f" "$RESULTS/$v.$round.$(basename "$f")"; done
    rm -rf "$d"
  done
done

# --- report -------------------------------------------------------------------------------
cat "$RESULTS/method"
echo "Load and peak RSS (2 vCPUs; other work on the machine was not stopped):"
cat "$RESULTS/load"
[ -s "$RESULTS/errors" ] && { echo; echo "Errors:"; cat "$RESULTS/errors"; }
echo
python3 - "$RESULTS" "$ENTRIES" "$REGULAR" <<'PY'
import collections, json, os, statistics, sys
results, entries, regular = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs, files, failed = collections.defaultdict(list), {}, collections.defaultdict(int)
for line in open(os.path.join(results, "times")):
    v, u, c, r, f, status = line.split()
    runs[v].append(tuple(map(float, (u, c, r))))
    files[v] = int(f)
    failed[v] += status != "ok"
order = [v for v in ["crfs", "btrfs", "sshfs", "passthrough"] if v in runs]
med = {v: [statistics.median(x[i] for x in runs[v]) for i in range(3)] for v in order}
print(f"Linux 6.1 source: {entries} entries; rounds: {len(next(iter(runs.values())))}; seconds, median")
print()
print("| variant | untar+sync | cat (cold) | rm -rf | total | note |")
print("|---|---|---|---|---|---|")
for v in order:
    u, c, r = med[v]
    note = f"FAILED in {failed[v]} round(s)" if failed[v] else ""
    print(f"| {v} | {u:.1f} | {c:.1f} | {r:.1f} | **{u + c + r:.1f}** | {note} |")
if "crfs" in med:
    print()
    print("| crfs ÷ | untar+sync | cat (cold) | rm -rf |")
    print("|---|---|---|---|")
    for ref in ("passthrough", "sshfs", "btrfs"):
        if ref in med:
            print(f"| {ref} | " + " | ".join(f"{med['crfs'][i] / med[ref][i]:.2f}" for i in range(3)) + " |")

def counters(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    text = open(path).read()
    if text.lstrip().startswith("{"):
        j = json.loads(text)
        d = {k: v for k, v in j.get("fuseRequests", {}).items() if k != "total"}
        d["TOTAL"] = j.get("fuseRequests", {}).get("total", 0)
        for k, n in j.get("roundTrips", {}).items():
            d["rt:" + k] = n
        return d
    return {k: int(n) for k, n in (l.split() for l in text.splitlines() if l.strip())}

for v in ("crfs", "passthrough"):
    if v not in runs:
        continue
    snaps = [counters(os.path.join(results, f"{v}.1.c{i}")) for i in range(4)]
    if any(s is None for s in snaps):
        print(f"\n{v}: no request counters")
        continue
    n = regular
    print(f"\nRequests per regular file of the tarball ({n} files), {v}, round 1 (rt: = round trips to the server):")
    keys = sorted({k for s in snaps for k in s if k not in ("TOTAL", "ERRORS", "NODES", "RING")})
    print("| opcode | untar+sync | cat | rm |")
    print("|---|---|---|---|")
    for k in keys + ["TOTAL", "ERRORS"]:
        row = [(snaps[i + 1].get(k, 0) - snaps[i].get(k, 0)) / n for i in range(3)]
        if any(row):
            print(f"| {k} | " + " | ".join(f"{x:.3f}" for x in row) + " |")
PY
