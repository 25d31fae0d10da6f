#!/usr/bin/env bash
# Benchmark: MPEG-TS demux (MB/s) and MISB ST 0601 KLV decode (packets/s) on the shared clips, looped.
#   TS demux: SiteWatch's TsDemuxer + KLV packet splitting, reading the looped clip from disk, against ffmpeg
#             extracting the same KLV data stream from the same file (-map 0:d:0 -c copy -f data), same run.
#   KLV decode: our decoder (reused packet, every nested set decoded, no allocation) against the Python peer
#             klvdata (bench/klvdata_peer.py, ../shared/peers/klvdata) on the same packets in the same run, and a
#             naive allocate-per-field decoder in our process; goal 100 times klvdata on every packet class.
#   bench/ts-klv-throughput.sh [LOOPS] [DECODE_SECONDS]     README: 500 3; tiny (bench/smoke.sh): 2 0.2
#   REPEATS=N (default 3) rounds of the decode comparison, interleaved.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOOPS="${1:-500}"
SECONDS_DECODE="${2:-3}"
DATA="$ROOT/../shared/data/klv"
[ -d "$DATA" ] || { echo "error: $DATA not found (the shared clips live beside the repository)" >&2; exit 1; }
source "$ROOT/scripts/bootstrap.sh"
dotnet build "$ROOT/bench/KlvBench" -c Release --verbosity quiet -nologo
BENCH="$ROOT/bench/KlvBench/bin/Release/net10.0/linux-x64/KlvBench"
WORK="$ROOT/bench/results"
mkdir -p "$WORK"

printf "%-12s %9s %14s %16s %8s\n" "clip" "MB" "ours MB/s" "ffmpeg MB/s" "ratio"
for clip in h264_klv h265_klv mpeg2_klv; do
  looped="$WORK/${clip}_x${LOOPS}.ts"
  [ -f "$looped" ] || "$BENCH" loop "$DATA/$clip.ts" "$looped" "$LOOPS"
  cat "$looped" > /dev/null # page cache warm for both readers
  bytes=$(stat -c %s "$looped")
  ours=$("$BENCH" demux "$looped")
  ours_rate=$(echo "$ours" | awk '{print $6}')
  start=$(date +%s.%N)
  ffmpeg -v error -i "$looped" -map 0:d:0 -c copy -f data -y /dev/null
  end=$(date +%s.%N)
  ff_rate=$(awk -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", b / 1e6 / (e - s) }')
  printf "%-12s %9.1f %14s %16s %8.2f\n" "$clip" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')" "$ours_rate" "$ff_rate" \
    "$(awk -v a="$ours_rate" -v b="$ff_rate" 'BEGIN { print a / b }')"
done
echo "(ratio = ours / ffmpeg; ffmpeg's time includes its process start and stream probing)"
echo

# KLV decode, per packet class, against the Python peer klvdata on the same packets in the same run (interleaved: for
# each class and each of REPEATS rounds, ours and the naive decoder (one process, alternating slices), then klvdata).
# The clips' packets are extracted with our own demuxer into a file of back-to-back packets that both read.
# Classes: the two raw flat ST 0601 packets (114 bytes; 228 bytes with a nested ST 0102 set, an MIIS pack and a wrong
# checksum), each clip's 2,353-byte packets (nested ST 0102, 0806, 0903, 1206, 1002, 1601, 1602 sets and ST 1204
# packs), and the h264 clip's packets with a number changed in every nested set from packet to packet ("varied": no
# nested set repeats, so none is reused from the previous packet).
# Rates are packets per CPU second of the decoding process (the machine is shared; wall-clock rates follow its load),
# median of the rounds; ratios are of those medians.
PEER="$ROOT/../shared/peers/klvdata"
[ -d "$PEER/klvdata" ] || { echo "error: $PEER not found (the klvdata peer lives beside the repository)" >&2; exit 1; }
PACKETS="$WORK/klv-packets"
mkdir -p "$PACKETS"
CLASSES=(DynamicOnlyMISMMSPacketData DynamicConstantMISMMSPacketData h264_klv h265_klv mpeg2_klv h264_klv-varied)
for c in "${CLASSES[@]}"; do
  case "$c" in
    *-varied) "$BENCH" vary "$DATA/${c%-varied}.ts" "$PACKETS/$c.klv" ;;
    *_klv) "$BENCH" extract "$DATA/$c.ts" "$PACKETS/$c.klv" ;;
    *) "$BENCH" extract "$DATA/$c.bin" "$PACKETS/$c.klv" ;;
  esac
done

REPEATS="${REPEATS:-3}"
echo "KLV decode (${SECONDS_DECODE} s of CPU per decoder and round, ${REPEATS} rounds interleaved; load average at start: $(cut -d' ' -f1-3 /proc/loadavg))"
RAW="$WORK/klv-decode-rounds.txt"
: > "$RAW"
for c in "${CLASSES[@]}"; do
  for round in $(seq "$REPEATS"); do
    echo "$c $round $("$BENCH" decode "$SECONDS_DECODE" "$PACKETS/$c.klv") $(/usr/bin/python3 "$ROOT/bench/klvdata_peer.py" "$PACKETS/$c.klv" "$SECONDS_DECODE" "$PEER")" >> "$RAW"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RAW" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    words = line.split()
    fields = dict(w.split("=", 1) for w in words[2:])
    rows.setdefault(words[0], []).append(fields)
print(f"{'packet class':<34} {'bytes':>6} {'ours pkt/s':>11} {'alloc B/pkt':>11} {'naive pkt/s':>11} {'klvdata pkt/s':>13} {'vs klvdata':>10} {'vs naive':>8}")
for name, runs in rows.items():
    med = lambda k: statistics.median(float(r[k]) for r in runs)
    ours, naive, peer = med("ours"), med("naive"), med("klvdata")
    alloc = max(float(r["ours_alloc"]) for r in runs)
    errors = int(runs[0]["errors"])
    note = f"  (klvdata raises on {errors} of {runs[0]['packets']} packets)" if errors else ""
    print(f"{name:<34} {float(runs[0]['mean_bytes']):6.0f} {ours:11,.0f} {alloc:11.0f} {naive:11,.0f} {peer:13,.0f} {ours / peer:9.0f}x {ours / naive:7.2f}x{note}")
print("(packets per CPU second, median of the rounds; goal: 100x klvdata on every class; naive = an allocate-per-field decoder of the top-level set only)")
PY
