#!/usr/bin/env bash
# Benchmark: the live watch pipeline on a 1280x720, 30 fps simulated border flight with detection every 6th frame
# (the default ONNX detector when this build has one, else the stream's VMTI targets; the output says which).
# Reports processing seconds per second of video and the frame-arrival -> alert latency (median, p95) of
#   - a live run: the TS file replayed over UDP to 127.0.0.1 at its real-time rate (sitewatch watch udp://...),
#   - a file run: the same file read as fast as it decodes,
# against two baselines in the same run: ffmpeg decoding the same file alone (decode to raw BGR, no analysis), and
# the same pipeline with detection off (--every larger than the flight). Ratios are pipeline / baseline.
#   bench/watch-latency.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_OF_VIDEO="${1:-10}"
source "$ROOT/scripts/bootstrap.sh"
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
WORK="$ROOT/bench/results/watch-latency"
FLIGHT="$WORK/flight-${SECONDS_OF_VIDEO}s"
mkdir -p "$WORK"
if [ ! -f "$FLIGHT/flight.ts" ]; then
  echo "==> simulating a ${SECONDS_OF_VIDEO} s 1280x720 30 fps flight with VMTI into $FLIGHT (once; takes minutes)"
  "$SW" simulate flight --out "$FLIGHT" --seconds "$SECONDS_OF_VIDEO" --size 1280x720 --fps 30 --vmti >/dev/null
fi

if [ -f "$(dirname "$SW")/models/sitewatch-objects.onnx" ] || [ -n "${SITEWATCH_DETECTOR_ONNX:-}" ]; then
  DETECTOR=(--detector model); WHICH="the default ONNX detector"
else
  DETECTOR=(--detector vmti); WHICH="VMTI targets from the stream (this build has no default ONNX detector)"
fi
COMMON=(--zones "$FLIGHT/zones.geojson" --dem "$FLIGHT/dem.tif" --json)
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['summary']; print(d.get(sys.argv[2]) if d.get(sys.argv[2]) is not None else 'nan')" "$1" "$2"; }

echo "==> baseline: ffmpeg decoding the file alone"
decode_s=$(python3 - "$FLIGHT/flight.ts" <<'PY'
import subprocess, sys, time
start = time.monotonic()
subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", sys.argv[1], "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
               stdout=subprocess.DEVNULL, check=True)
print(f"{time.monotonic() - start:.3f}")
PY
)

echo "==> file run: detection every 6th frame"
rm -rf "$WORK/file"; "$SW" watch "$FLIGHT/flight.ts" "${COMMON[@]}" "${DETECTOR[@]}" --every 6 --out "$WORK/file" > "$WORK/file.json"
echo "==> file run: detection off (baseline)"
rm -rf "$WORK/off"; "$SW" watch "$FLIGHT/flight.ts" "${COMMON[@]}" "${DETECTOR[@]}" --every 1000000 --out "$WORK/off" > "$WORK/off.json"

echo "==> live run: the file replayed over UDP at its real-time rate"
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rm -rf "$WORK/live"
"$SW" watch "udp://127.0.0.1:$PORT" "${COMMON[@]}" "${DETECTOR[@]}" --every 6 --out "$WORK/live" > "$WORK/live.json" &
WATCH_PID=$!
sleep 2
# Constant-rate replay in 7-packet datagrams (what encoders send): the file's bytes spread over its video duration.
python3 - "$FLIGHT/flight.ts" "$PORT" "$SECONDS_OF_VIDEO" <<'PY'
import socket, sys, time
path, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
data = open(path, "rb").read()
chunk = 7 * 188
rate = len(data) / seconds
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start = time.monotonic()
for offset in range(0, len(data), chunk):
    due = start + offset / rate
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    sock.sendto(data[offset:offset + chunk], ("127.0.0.1", port))
PY
wait "$WATCH_PID"

video=$(field "$WORK/file.json" video_seconds)
printf '\ndetector: %s, every 6th frame; flight %s s, 1280x720 at 30 fps (%s)\n' "$WHICH" "$video" "$FLIGHT/flight.ts"
printf '%-52s %14s %12s %12s %8s\n' "" "proc s/video s" "latency p50" "latency p95" "alerts"
for run in live file off; do
  printf '%-52s %14s %12s %12s %8s\n' "$(case $run in live) echo "live UDP, detection every 6th frame";; file) echo "file, detection every 6th frame";; off) echo "file, detection off (baseline)";; esac)" \
    "$(field "$WORK/$run.json" processing_seconds_per_video_second)" "$(field "$WORK/$run.json" median_latency_ms) ms" "$(field "$WORK/$run.json" p95_latency_ms) ms" "$(field "$WORK/$run.json" alerts)"
done
python3 - "$WORK" "$decode_s" "$video" <<'PY'
import json, sys
work, decode_s, video = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = {r: json.load(open(f"{work}/{r}.json"))["summary"] for r in ("live", "file", "off")}
print(f"{'ffmpeg decode alone (baseline; wall s per video s)':<52} {decode_s / video:14.3f}")
print(f"file run wall / ffmpeg decode alone: {s['file']['wall_seconds'] / decode_s:.2f}  (the pipeline's decode is ffmpeg too; the rest is analysis)")
print(f"processing per video second, detection every 6th / off: {s['file']['processing_seconds_per_video_second'] / max(1e-9, s['off']['processing_seconds_per_video_second']):.2f}")
live = s["live"]
print(f"live: {live['frames']} frames, {live['detection_frames_dropped']} detection frames dropped, keeps up: {'yes' if live['processing_seconds_per_video_second'] < 1 else 'NO'}; "
      f"median latency goal 500 ms: {'met' if (live['median_latency_ms'] or 1e9) < 500 else 'NOT met'}")
PY
