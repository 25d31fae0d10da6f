#!/usr/bin/env bash
# Accuracy of the default drone detector on simulated border flights it never saw (it was trained on flight seeds
# 101-124; these are seeds 1, 2, 3, ... with the simulator's default camera): each flight is watched with the ONNX
# detector and no VMTI, and, as the peer in the same run, with the stream's VMTI boxes placed by our own ray casting.
# Prints per flight and in total: truth events that must be seen and how many raised their alert, false alerts (and
# per 10 minutes of video), seconds per detection frame, and the detector's per-class precision and recall.
# Detection waits for the detector (figures independent of the machine's speed; bench/watch-latency.sh runs it live).
# Flights are 15 fps with detection every 3rd frame: 5 detections a second, as `watch` makes on 30 fps video by
# default (every 6th); flights are simulated once into bench/results/drone-eval and reused.
#   bench/drone-eval.sh [SEEDS] [SECONDS] [WIDTHxHEIGHT] [EVERY] [FPS]  README figures: bench/drone-eval.sh 1,2,3,4,5,6 20
#   bench/drone-eval.sh 1 2 320x180 3                                    tiny size (bench/smoke.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEEDS="${1:-1,2,3,4,5,6}"
SECONDS_OF_VIDEO="${2:-20}"
SIZE="${3:-1280x720}"
EVERY="${4:-3}"
FPS="${5:-15}"
source "$ROOT/scripts/bootstrap.sh"
dotnet build "$ROOT/bench/DroneEval" -c Release --verbosity quiet -nologo
"$ROOT/bench/DroneEval/bin/Release/net10.0/linux-x64/DroneEval" --seeds "$SEEDS" --seconds "$SECONDS_OF_VIDEO" --size "$SIZE" \
  --every "$EVERY" --fps "$FPS" --out "$ROOT/bench/results/drone-eval"
