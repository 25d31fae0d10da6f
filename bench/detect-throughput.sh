#!/usr/bin/env bash
# Benchmark: tiled object detection over a scene at the demo's resolution (0.9 m): km² per second for the whole
# pipeline (read, scale, infer, decode, NMS, seam merge, georeference) against the same number of bare ONNX Runtime
# runs on a prepared tile (the baseline), in the same run; prints the overhead ratio.
#   bench/detect-throughput.sh [--model PATH] [--size PIXELS] [--runs N]
# Default model: the built-in sitewatch-objects.onnx when the build has it, else a YOLO-shaped stand-in network.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=""; SIZE=4096; RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--model PATH] [--size PIXELS] [--runs N]" >&2; exit 2 ;;
  esac
done
source "$ROOT/scripts/bootstrap.sh"
dotnet build "$ROOT/bench/DetectBench" -c Release --verbosity quiet -nologo
BIN="$ROOT/bench/DetectBench/bin/Release/net10.0/linux-x64"
WORK="$ROOT/bench/results"
mkdir -p "$WORK"
SCENE="$WORK/detect-scene-${SIZE}.tif"
[ -f "$SCENE" ] || { echo "==> generating $SCENE (0.9 m)"; "$BIN/DetectBench" make-scene "$SCENE" "$SIZE"; }
if [ -z "$MODEL" ]; then
  if [ -f "$BIN/models/sitewatch-objects.onnx" ]; then
    MODEL="$BIN/models/sitewatch-objects.onnx"
  else
    MODEL="$WORK/stand-in-yolo.onnx"
    echo "==> no default model in this build: timing a YOLO-shaped stand-in network ($MODEL)"
    "$BIN/DetectBench" stand-in-model "$MODEL"
  fi
fi
echo "model: $MODEL"
"$BIN/DetectBench" run "$SCENE" "$MODEL" "$RUNS"
