#!/usr/bin/env bash
# Model-checks the ring protocol (model/ringbuf.pml) with SPIN: every
# configuration must pass with an exhaustive search, and every mutation (a
# known mistake put back into the model) must produce a counterexample.
#
#   model/check.sh              the default set (a few minutes on 2 cores)
#   MODEL_FULL=1 model/check.sh also the larger configurations
#   model/check.sh NAME...      only these (names as printed by --list)
#   model/check.sh --list       what a run checks: name, kind, switches
#
# Environment: MODEL_JOBS (parallel runs, default: cores, at most 2),
# MODEL_OUT (where each run's pan and trail go, default: a temporary
# directory, kept when something fails), MODEL_MEMLIM (MB per run, default 4096;
# 8192 with MODEL_FULL=1, whose largest run, lock-2p-any, needs about 7 GB).
#
# One line per run:
#   ok   config   NAME  states=N  seconds=S  (no errors, search complete)
#   ok   mutation NAME  states=N  seconds=S  counterexample: <what failed>
#   FAIL ...            (a property failed, a search was incomplete, or a mutation passed)
# then "model: P passed, F failed". The exit status is 0 only when nothing failed.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
model="$here/ringbuf.pml"

# name | kind | switches [| progress]. docs/model.md explains each one. A
# "progress" run searches for non-progress cycles (pan -l) instead of checking
# assertions and end states: a run that loops for ever without a record made
# or delivered.
DEFAULT=(
  "lock-2p|config|-DNREC=2 -DBUDGET"
  "lock-2p-discard|config|-DNREC=2 -DLEN1=1 -DLEN2=2 -DDISCARDS"
  "lock-2p-flags|config|-DNREC=2 -DLEN1=1 -DLEN2=2 -DFLAGS"
  "lock-3p|config|-DNPROD=3 -DLEN1=1 -DLEN2=2 -DLEN3=1"
  "cas-2p|config|-DCAS -DNREC=2"
  "overwrite-2p|config|-DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DBUDGET"
  "overwrite-3p|config|-DOVERWRITE -DNPROD=3 -DLEN1=1 -DLEN2=2 -DLEN3=1"
  "overwrite-2p-halfwake|config|-DOVERWRITE -DHALFWAKE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DBUDGET"
  "room-2p|config|-DROOMWAIT -DNREC=2 -DLEN1=2 -DLEN2=2"
  "reap-2p|config|-DREAP -DLEN1=1 -DLEN2=1 -DNREC2=2"
  "reap-room-2p|config|-DREAP -DROOMWAIT -DLEN1=2 -DLEN2=2"
  "reap-overwrite-move-2p|config|-DREAP -DKILL_IN_MOVE -DOVERWRITE -DLEN1=2 -DLEN2=2"
  "close-2p|config|-DCLOSE -DNREC=2 -DLEN1=1 -DLEN2=2"
  "perfbuf-2p|config|-DPERFBUF"
  "hostile-2p|config|-DHOSTILE -DNREC=2"
  "single-1p|config|-DSINGLE -DNPROD=1 -DNREC=5 -DFLAGS -DBUDGET"
  "single-reap-1p|config|-DSINGLE -DNPROD=1 -DNREC=3 -DREAP"
  "progress-lock-2p|config|-DNREC=2 -DLEN1=1 -DLEN2=2|progress"
  "progress-overwrite-2p|config|-DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DBUDGET|progress"
  "M1-no-second-look|mutation|-DM_NO_SECOND_LOOK"
  "M2-no-pending-walk|mutation|-DHOSTILE -DNREC=2 -DM_NO_PENDING_WALK"
  "M2-no-pending-walk-overwrite|mutation|-DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DM_NO_PENDING_WALK"
  "M3-overwrite-no-wake|mutation|-DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DM_NO_OVERWRITE_WAKE"
  "M4-commit-loads-first|mutation|-DM_COMMIT_LOAD_FIRST"
  "M10-commit-wait-first|mutation|-DM_COMMIT_WAIT_FIRST"
  "M12-output-wait-first|mutation|-DSINGLE -DNPROD=1 -DNREC=3 -DM_OUTPUT_WAIT_FIRST"
  "M13-output-no-room|mutation|-DSINGLE -DNPROD=1 -DNREC=4 -DM_OUTPUT_NO_ROOM"
  "M5-room-no-recheck|mutation|-DROOMWAIT -DNREC=2 -DLEN1=2 -DLEN2=2 -DM_ROOM_NO_RECHECK"
  "M11-room-not-owed|mutation|-DROOMWAIT -DNREC=2 -DLEN1=2 -DLEN2=2 -DM_ROOM_NOT_OWED"
  "M6-dropped-plain|mutation|-DNREC=2 -DLEN1=2 -DLEN2=2 -DM_DROPPED_PLAIN"
  "M7-cas-no-fill|mutation|-DCAS -DNREC=2 -DM_CAS_NO_FILL"
  "M8-lock-not-contended|mutation|-DNREC=2 -DM_LOCK_NO_CONTENDED"
  "M9-consumer-store|mutation|-DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DM_CONSUMER_STORE"
  "M14-reap-keeps-waiter|mutation|-DREAP -DROOMWAIT -DLEN1=2 -DLEN2=2 -DM_REAP_KEEPS_WAITER"
  "M15-room-leave-split|mutation|-DREAP -DROOMWAIT -DLEN1=2 -DLEN2=2 -DM_ROOM_LEAVE_SPLIT"
  "M16-release-before-publish|mutation|-DCLOSE -DNREC=2 -DLEN1=1 -DLEN2=2 -DM_RELEASE_BEFORE_PUBLISH"
  "M17-move-give-up|mutation|-DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DM_MOVE_GIVE_UP"
  "M18-reap-no-move|mutation|-DREAP -DKILL_IN_MOVE -DOVERWRITE -DLEN1=2 -DLEN2=2 -DM_REAP_NO_MOVE"
  "M19-pb-refuse-no-wake|mutation|-DPERFBUF -DM_PB_REFUSE_NO_WAKE"
  "M20-pb-nowake-ignores-held|mutation|-DPERFBUF -DM_PB_NOWAKE_IGNORES_HELD"
  "S1-reap-wake-only|mutation|-DREAP -DLEN1=1 -DLEN2=1 -DNREC2=2 -DSPEC_REAP_WAKE"
  "S2-reap-lock-notify-if-recovered|mutation|-DREAP -DLEN1=1 -DLEN2=1 -DNREC2=2 -DSPEC_REAP_LOCK"
  "S3-precheck-producer-first|mutation|-DLEN1=1 -DLEN2=2 -DSPEC_PRECHECK_ORDER"
  "S4-move-total-kept|mutation|-DREAP -DKILL_IN_MOVE -DOVERWRITE -DLEN1=2 -DLEN2=2 -DSPEC_MOVE_TOTAL"
  "S5-move-total-own-step|mutation|-DREAP -DKILL_IN_MOVE -DOVERWRITE -DLEN1=2 -DLEN2=2 -DSPEC_MOVE_TOTAL_STEP"
)
FULL=(
  "lock-2p-any|config|-DNREC=2 -DDISCARDS"
  "lock-2p-size8|config|-DSIZE=8 -DSTART=6 -DNREC=3 -DLEN1=2 -DLEN2=2 -DBUDGET"
  "lock-2p-flags-budget|config|-DNREC=2 -DLEN1=1 -DLEN2=2 -DFLAGS -DBUDGET"
  "cas-2p-flags-budget|config|-DCAS -DNREC=2 -DLEN1=2 -DLEN2=1 -DFLAGS -DBUDGET"
  "overwrite-2p-any|config|-DOVERWRITE -DNREC=2 -DBUDGET"
  "overwrite-2p-flags|config|-DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2 -DFLAGS -DDISCARDS"
  "overwrite-size8|config|-DOVERWRITE -DHALFWAKE -DSIZE=8 -DSTART=2 -DLEN1=2 -DLEN2=2 -DNREC=3"
  "room-2p-any|config|-DROOMWAIT -DNREC=2 -DLEN2=2"
  "room-overwrite-2p|config|-DROOMWAIT -DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2"
  "reap-2p-any|config|-DREAP -DLEN2=1 -DNREC2=2"
  "reap-2p-second|config|-DREAP -DKILLABLE=2 -DLEN1=1 -DLEN2=1 -DNREC2=2"
  "reap-overwrite-2p|config|-DREAP -DOVERWRITE -DLEN1=2 -DLEN2=2"
  "reap-overwrite-move-2p-lap|config|-DREAP -DKILL_IN_MOVE -DOVERWRITE -DLEN1=1 -DLEN2=21 -DNREC2=2"
  "close-2p-flags-budget|config|-DCLOSE -DNREC=2 -DLEN1=1 -DLEN2=2 -DFLAGS -DBUDGET"
  "perfbuf-2p-cap2|config|-DPERFBUF -DPB_CAP=2"
  "progress-lock-2p-discard|config|-DNREC=2 -DLEN1=1 -DLEN2=2 -DDISCARDS|progress"
  "progress-lock-3p|config|-DNPROD=3 -DLEN1=1 -DLEN2=2 -DLEN3=1|progress"
  "progress-cas-2p|config|-DCAS -DNREC=2|progress"
  "progress-room-2p|config|-DROOMWAIT -DNREC=2 -DLEN1=2 -DLEN2=2|progress"
  "progress-reap-2p|config|-DREAP -DLEN1=1 -DLEN2=1 -DNREC2=2|progress"
  "M3-overwrite-no-wake-halfwake-8|mutation|-DOVERWRITE -DHALFWAKE -DSIZE=8 -DSTART=2 -DNPROD=3 -DLEN1=1 -DLEN2=2 -DNREC2=3 -DLEN3=1 -DM_NO_OVERWRITE_WAKE"
)

runs=("${DEFAULT[@]}")
if [ "${MODEL_FULL:-}" = 1 ]; then runs+=("${FULL[@]}"); fi

if [ "${1:-}" = "--list" ]; then
  # what a run without names would check (MODEL_FULL=1: the larger ones too)
  for r in "${runs[@]}"; do IFS='|' read -r n k d m <<<"$r"; printf '%-34s %-8s %-8s %s\n' "$n" "$k" "${m:-safety}" "$d"; done
  exit 0
fi
if [ $# -gt 0 ]; then
  picked=()
  for want in "$@"; do
    found=0
    for r in "${DEFAULT[@]}" "${FULL[@]}"; do
      IFS='|' read -r n _ _ <<<"$r"
      if [ "$n" = "$want" ]; then picked+=("$r"); found=1; fi
    done
    if [ $found = 0 ]; then echo "unknown configuration: $want (see MODEL_FULL=1 model/check.sh --list)" >&2; exit 2; fi
  done
  runs=("${picked[@]}")
fi

for tool in spin gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$tool" = spin ]; then
      echo "FAIL spin is not installed: apt-get install -y spin (Debian's package; CI installs it)" >&2
    else
      echo "FAIL gcc is not installed: apt-get install -y gcc" >&2
    fi
    exit 2
  fi
done

out="${MODEL_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ringbuf-model.XXXXXX")}"
mkdir -p "$out"
cores=$(nproc 2>/dev/null || echo 1)
jobs="${MODEL_JOBS:-$(( cores < 2 ? cores : 2 ))}"
memlim="${MODEL_MEMLIM:-$([ "${MODEL_FULL:-}" = 1 ] && echo 8192 || echo 4096)}"

# what a failed assertion means, from its text
describe() {
  case "$1" in
    *"c==PRODUCER_POS"*) echo "lost wakeup: the consumer sleeps for ever with a record to wake it for at its position" ;;
    *"rs[own["*|*"own[(u&"*) echo "a reservation overlaps a record that is BUSY or unread" ;;
    *"rs[u]==2"*) echo "overwriteOldest passed a BUSY record" ;;
    *"hpos[(pos&"*) echo "a record's header was overwritten before its commit" ;;
    *"done[i]||dead[i]"*) echo "a producer is blocked for ever (in the lock or waiting for room)" ;;
    *"reaped[i]"*) echo "a dead producer was never reaped" ;;
    *"DROPPED==refusals"*) echo "a refusal went uncounted" ;;
    *"t_c<=(t_prod+L)"*) echo "reserve refused from a wrapped difference, with room in the ring" ;;
    *"hpos[(cons&"*|*"hp==cons"*) echo "the consumer read bytes that are not this record's header" ;;
    *"rs[cons]==2"*) echo "a record delivered twice, or delivered after it was counted overwritten" ;;
    *"rs[cons]==3"*) echo "a discarded record's state is wrong" ;;
    *"cpok"*|*"pay[(u&"*) echo "a torn payload delivered" ;;
    *"OVERWRITTEN==nover"*) echo "overwritten records miscounted" ;;
    *"CONSUMER_POS==old"*) echo "CONSUMER_POS moved under the consumer" ;;
    *"ROOM_WAITERS==0"*) echo "ROOM_WAITERS stays raised after every waiter finished or was reaped" ;;
    *"rs[i]!=2"*) echo "a committed record behind CONSUMER_POS was never delivered" ;;
    *"cons>=lastdel"*) echo "records delivered out of order" ;;
    *"acc==mv"*) echo "a record reported a loss count other than the records passed since the previous one" ;;
    *"csleepat==CONSUMER_POS"*) echo "the consumer sleeps for ever before a gap it never takes" ;;
    *"pst[u]==4"*) echo "lost wakeup: the perfbuf consumer sleeps for ever while a record committed with default flags (or one stamped before it) waits" ;;
    *"pstamp[u]>=nextmin"*) echo "a perfbuf record delivered twice or out of stamp order" ;;
    *"pbdone[k]"*) echo "a perfbuf producer is blocked for ever" ;;
    *"csleep"*) echo "the consumer is blocked outside its sleep" ;;
    *"invalid end state"*) echo "deadlock: a process blocked for ever" ;;
    *"non-progress cycle"*) echo "livelock: a run that loops for ever without progress" ;;
    *) echo "$1" ;;
  esac
}

# run one configuration; prints its result line
run_one() {
  local name="$1" kind="$2" defs="$3" mode="${4:-safety}" dir="$out/$1"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$model" "$dir/ringbuf.pml"
  cd "$dir" || return
  local t0 t1 secs
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  if ! spin $defs -a ringbuf.pml >spin.txt 2>&1; then
    echo "FAIL $kind $name  spin -a failed: $(head -c 300 spin.txt | tr '\n' ' ')"; return
  fi
  # -DSAFETY: assertions and end states; -DNP with pan -l: non-progress cycles.
  # -DCOLLAPSE compresses states without loss: the search stays exhaustive.
  local cflags=-DSAFETY panflags=""
  if [ "$mode" = progress ]; then cflags=-DNP; panflags=-l; fi
  if ! gcc -O2 -w $cflags -DCOLLAPSE -DMEMLIM="$memlim" -o pan pan.c >gcc.txt 2>&1; then
    echo "FAIL $kind $name  gcc failed: $(head -c 300 gcc.txt | tr '\n' ' ')"; return
  fi
  ./pan $panflags -m100000 -w25 >pan.txt 2>&1
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  local states errors what incomplete=0
  states=$(sed -nE 's/^ *([0-9.e+]+) states, stored.*/\1/p' pan.txt | head -1)
  states=$(awk -v s="${states:-0}" 'BEGIN { printf "%d", s }')
  errors=$(sed -nE 's/.*errors: ([0-9]+).*/\1/p' pan.txt | head -1)
  grep -qE 'Search not completed|max search depth too small|reached -DMEMLIM' pan.txt && incomplete=1
  what=$(grep -m1 -E '^pan:[0-9]+: ' pan.txt | sed -E 's/^pan:[0-9]+: //')
  [ -n "$what" ] || what=$(grep -m1 -E 'invalid end state|non-progress cycle' pan.txt)
  local line="$name  states=$states  seconds=$secs" replay="(cd $dir && spin -t -p $defs ringbuf.pml)"
  [ -n "${MODEL_OUT:-}" ] || replay="(MODEL_OUT=dir keeps it)"
  if [ "$kind" = config ]; then
    if [ "${errors:-x}" = 0 ] && [ $incomplete = 0 ]; then
      echo "ok   config   $line  no errors, exhaustive"
    elif [ "${errors:-x}" = 0 ]; then
      echo "FAIL config   $line  search incomplete (memory or depth): nothing proved"
    else
      echo "FAIL config   $line  $(describe "$what") [$what]; trail: (cd $dir && spin -t -p $defs ringbuf.pml)"
    fi
  else
    if [ "${errors:-0}" != 0 ] && [ -f ringbuf.pml.trail ]; then
      echo "ok   mutation $line  counterexample: $(describe "$what"); trail: $replay"
    else
      echo "FAIL mutation $line  no counterexample: the model misses this mistake"
    fi
  fi
}

echo "model: ${#runs[@]} runs, $jobs at a time, in $out (spin $(spin -V 2>/dev/null | sed -nE 's/.*Version ([0-9.]+).*/\1/p'))"
started=$(date +%s)
results="$out/results.txt"
: >"$results"
running=0
for r in "${runs[@]}"; do
  IFS='|' read -r n k d m <<<"$r"
  ( line=$(run_one "$n" "$k" "$d" "$m"); echo "$line"; echo "$line" >>"$results" ) &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

passed=$(grep -c '^ok ' "$results")
failed=$(grep -c '^FAIL' "$results")
missing=$(( ${#runs[@]} - passed - failed ))
failed=$((failed + missing))
echo "model: $passed passed, $failed failed ($(( $(date +%s) - started ))s)"
if [ -z "${MODEL_OUT:-}" ]; then
  if [ "$failed" -eq 0 ]; then rm -rf "$out"; else echo "model: the runs are kept in $out"; fi
fi
[ "$failed" -eq 0 ]
