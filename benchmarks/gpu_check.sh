#!/usr/bin/env bash
# GPU check for a maintainer, on any CUDA machine, in under 10 minutes (`make gpu-check`):
#   1. a handful of chapters at the gpu profile (each with its own time limit), uncached;
#   2. the many-models benchmark on CUDA (all four arms, the torch.func idiom among them).
# Prints one line per step and a final summary line of timings and verdicts.
# Usage: bash benchmarks/gpu_check.sh [CHAPTER ...]   (default: three quick chapters)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
GENBOOK=${GENBOOK:-.venv/bin/genbook}
LIMIT_S=${LIMIT_S:-150}
CHAPTERS=("$@")
[ ${#CHAPTERS[@]} -gt 0 ] || CHAPTERS=(aggregate_responses pac_invariance xor_grokking)

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_check: no CUDA device visible to torch ($("$PY" -c 'import torch; print(torch.__version__)')):" \
       "install the CUDA build with 'make install-gpu' on a machine with an NVIDIA driver" >&2
  exit 2
fi
DEVICE=$("$PY" -c "import torch; print(torch.cuda.get_device_name(0))")
echo "gpu_check: device $DEVICE"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
summary=()
for ch in "${CHAPTERS[@]}"; do
  t0=$(date +%s%N)
  if timeout "$LIMIT_S" "$GENBOOK" run "$ch" --profile gpu --no-cache --out "$OUT" -j 1 > "$OUT/$ch.log" 2>&1; then
    verdict=$(awk -v c="$ch" '$0 ~ c && $2 == "main" {print $4; exit}' "$OUT/$ch.log")
  else
    verdict="failed(rc=$?)"
  fi
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  t="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
  echo "gpu_check: $ch at gpu: ${verdict:-?} in ${t} s"
  summary+=("$ch=${verdict:-?}:${t}s")
done
bench=$("$PY" benchmarks/many_models.py --device cuda --models 32 --steps 300 | tail -1)
echo "gpu_check: many-models on CUDA: $bench"
echo "gpu_check summary: device=\"$DEVICE\" ${summary[*]} | $bench"
