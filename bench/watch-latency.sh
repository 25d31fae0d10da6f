#!/usr/bin/env bash
# Benchmark: the live watch pipeline on a simulated border flight (30 fps, VMTI in the stream) with detection every
# 6th frame, run with both detectors in the same run: the stream's VMTI targets and the default ONNX drone detector
# (when this build has it; a run without alerts prints "no alerts").
# Reports, per detector, processing seconds per second of video and the frame-arrival -> alert latency (median, p95) of
#   - a live run: the TS file replayed over UDP to 127.0.0.1 at its real-time rate (sitewatch watch udp://...),
#   - a file run: the same file read as fast as it decodes,
# against two baselines in the same run: ffmpeg decoding the same file alone (decode to raw BGR, no analysis), and
# the same pipeline with detection off (--every larger than the flight). Ratios are pipeline / baseline.
#   bench/watch-latency.sh [SECONDS] [WIDTHxHEIGHT]      README figures: bench/watch-latency.sh 10 (1280x720)
#   bench/watch-latency.sh 2 320x180                     tiny size (bench/smoke.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_OF_VIDEO="${1:-10}"
SIZE="${2:-1280x720}"
source "$ROOT/scripts/bootstrap.sh"
dotnet build "$ROOT/src/SiteWatch.Cli" -c Release --verbosity quiet -nologo
SW="$ROOT/src/SiteWatch.Cli/bin/Release/net10.0/linux-x64/sitewatch"
WORK="$ROOT/bench/results/watch-latency"
FLIGHT="$WORK/flight-${SECONDS_OF_VIDEO}s-${SIZE}"
mkdir -p "$WORK"
if [ ! -f "$FLIGHT/flight.ts" ]; then
  echo "==> simulating a ${SECONDS_OF_VIDEO} s $SIZE 30 fps flight with VMTI into $FLIGHT (once; takes minutes at 1280x720)"
  rm -rf "$FLIGHT"
  "$SW" simulate flight --out "$FLIGHT" --seconds "$SECONDS_OF_VIDEO" --size "$SIZE" --fps 30 --vmti >/dev/null
fi

DETECTORS=(vmti)
if [ -f "$(dirname "$SW")/models/sitewatch-drone.onnx" ] || [ -n "${SITEWATCH_DRONE_ONNX:-}" ]; then
  DETECTORS+=(model)
else
  echo "note: this build has no default drone detector; only the VMTI run is made"
fi
COMMON=(--zones "$FLIGHT/zones.geojson" --dem "$FLIGHT/dem.tif" --json)

echo "==> baseline: ffmpeg decoding the file alone"
decode_s=$(python3 - "$FLIGHT/flight.ts" <<'PY'
import subprocess, sys, time
start = time.monotonic()
subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", sys.argv[1], "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
               stdout=subprocess.DEVNULL, check=True)
print(f"{time.monotonic() - start:.3f}")
PY
)

# Constant-rate replay in 7-packet datagrams (what encoders send): the file's bytes spread over its video duration.
replay() {
  python3 - "$FLIGHT/flight.ts" "$1" "$SECONDS_OF_VIDEO" <<'PY'
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
}

for det in "${DETECTORS[@]}"; do
  out="$WORK/$det"
  mkdir -p "$out"
  echo "==> $det: file run, detection every 6th frame"
  rm -rf "$out/file"; "$SW" watch "$FLIGHT/flight.ts" "${COMMON[@]}" --detector "$det" --every 6 --out "$out/file" > "$out/file.json"
  echo "==> $det: file run, detection off (baseline)"
  rm -rf "$out/off"; "$SW" watch "$FLIGHT/flight.ts" "${COMMON[@]}" --detector "$det" --every 1000000 --out "$out/off" > "$out/off.json"
  echo "==> $det: live run, the file replayed over UDP at its real-time rate"
  PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rm -rf "$out/live"
  "$SW" watch "udp://127.0.0.1:$PORT" "${COMMON[@]}" --detector "$det" --every 6 --out "$out/live" > "$out/live.json" &
  WATCH_PID=$!
  sleep 2
  replay "$PORT"
  wait "$WATCH_PID"
done

# One table per detector. A run without alerts has no latency: it says "no alerts" (the summary has no latency fields).
python3 - "$WORK" "$decode_s" "$FLIGHT/flight.ts" "$SIZE" "${DETECTORS[@]}" <<'PY'
import json, sys
work, decode_s, flight, size, detectors = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
names = {"vmti": "VMTI targets from the stream", "model": "the default ONNX drone detector"}
labels = {"live": "live UDP, detection every 6th frame", "file": "file, detection every 6th frame", "off": "file, detection off (baseline)"}

def ms(summary, key):
    value = summary.get(key)
    return "no alerts" if value is None else f"{value:.0f} ms"

video = None
for det in detectors:
    s = {r: json.load(open(f"{work}/{det}/{r}.json"))["summary"] for r in ("live", "file", "off")}
    video = s["file"]["video_seconds"]
    print(f"\ndetector: {names.get(det, det)}, every 6th frame; flight {video:.1f} s, {size} at 30 fps ({flight})")
    print(f"{'':<52} {'proc s/video s':>14} {'latency p50':>12} {'latency p95':>12} {'alerts':>8}")
    for run in ("live", "file", "off"):
        r = s[run]
        print(f"{labels[run]:<52} {r['processing_seconds_per_video_second']:14.3f} {ms(r, 'median_latency_ms'):>12} {ms(r, 'p95_latency_ms'):>12} {r.get('alerts', 0):>8}")
    print(f"file run wall / ffmpeg decode alone: {s['file']['wall_seconds'] / decode_s:.2f}  (the pipeline's decode is ffmpeg too; the rest is analysis)")
    print(f"processing per video second, detection every 6th / off: {s['file']['processing_seconds_per_video_second'] / max(1e-9, s['off']['processing_seconds_per_video_second']):.2f}")
    live = s["live"]
    median = live.get("median_latency_ms")
    goal = "no alerts" if median is None else ("met" if median < 500 else "NOT met")
    print(f"live: {live['frames']} frames, {live.get('detection_frames_dropped', 0)} detection frames dropped, "
          f"keeps up: {'yes' if live['processing_seconds_per_video_second'] < 1 else 'NO'}; median latency goal 500 ms: {goal}")
print(f"\n{'ffmpeg decode alone (baseline; wall s per video s)':<52} {decode_s / video:14.3f}")
PY
