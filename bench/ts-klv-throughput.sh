#!/usr/bin/env bash
# Benchmark: MPEG-TS demux (MB/s) and MISB ST 0601 KLV decode (packets/s) on the shared clips, looped.
#   TS demux: SiteWatch's TsDemuxer + KLV packet splitting, reading the looped clip from disk, against ffmpeg
#             extracting the same KLV data stream from the same file (-map 0:d:0 -c copy -f data), same run.
#   KLV decode: our decoder (reused packet, no per-field allocation) against a naive allocate-per-field decoder
#             run side by side in the same process; the issue's external reference is Python klvdata at about
#             15,000 packets/s on this machine (stated, not re-measured here), with a goal of 100 times that.
#   bench/ts-klv-throughput.sh [LOOPS] [DECODE_SECONDS]
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

# The clips' packets are large (nested VMTI and other sets); the two raw files hold typical flat ST 0601 packets,
# the size class of the klvdata reference figure (228 bytes).
for clip in h264_klv.ts h265_klv.ts mpeg2_klv.ts DynamicOnlyMISMMSPacketData.bin DynamicConstantMISMMSPacketData.bin; do
  line=$("$BENCH" decode "$SECONDS_DECODE" "$DATA/$clip")
  echo "$clip: $line"
  ours=$(echo "$line" | sed -E 's/.*ours ([0-9]+) packets.*/\1/')
  naive=$(echo "$line" | sed -E 's/.*naive allocate-per-field ([0-9]+) packets.*/\1/')
  awk -v o="$ours" -v n="$naive" 'BEGIN { printf "  ratio ours / naive %.2f; ours / klvdata (15,000 packets/s, stated reference) %.0f (goal 100)\n", o / n, o / 15000 }'
done
