#!/usr/bin/env bash
# One prepared training session on a GPU machine (the device tool's H200): unpack the carried data,
# train the candidate recipes side by side within a wall-clock budget, and leave their checkpoints
# and logs under $OUT (at most 8 files of 16 MiB come back: best.pt + log.csv per candidate, and
# one file of all stdout logs).
#
# Here, once:  (cd training && python3 -m ferkit_train.pack --pack ../../shared/data/fer2013 --to data/fer2013.ferpack)
# Device call: run(command="bash training/gpu.sh", carry=["training/data"], timeout_s=600)
# Then here:   python3 -m ferkit_train.export --checkpoint <fetched>/NAME/best.pt --val ... (see README)
#
# Settings (environment): FERKIT_GPU_MINUTES (training budget per candidate, default 7),
# FERKIT_GPU_CANDIDATES (names below, default all), FERKIT_GPU_EXTRA (extra train.py flags, e.g. for a
# CPU smoke test: "--device cpu --limit-train 256 --limit-val 128 --max-steps 4").
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
OUT=${OUT:-runs/gpu}
DATA=${FERKIT_DATA_DIR:-/tmp/fer2013}
MINUTES=${FERKIT_GPU_MINUTES:-7}
EXTRA=${FERKIT_GPU_EXTRA:-}
export PYTHONUNBUFFERED=1

[ -f data/fer2013.ferpack ] || { echo "training/data/fer2013.ferpack missing: pack it here first (see the top of $0)" >&2; exit 2; }
"$PY" -m ferkit_train.pack --unpack data/fer2013.ferpack --to "$DATA"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"

# run 3's recipe (models/README.md) without the FER+ mix (run 8: it never helped), from scratch,
# many more epochs than the CPUs allow
RECIPE="--dropout 0.2 --batch-size 128 --optimizer sgd --lr 0.1 --weight-decay 0.0005 --warmup 0.03 \
  --label-smoothing 0.05 --ferplus-mix 0 --class-weight none --erase-p 0.25 --rotate 10 --seed 1 --ema 0.999"
declare -A CANDIDATES=(
  [resnet-long]="--widths 32,64,128,256 --depths 1,1,2,1 --stem-width 32 --epochs 150"
  [resnet-w40-long]="--widths 40,80,160,320 --depths 1,1,2,1 --stem-width 32 --epochs 150"
  [resnet-deep-long]="--widths 32,64,128,256 --depths 2,2,2,2 --stem-width 32 --epochs 150"
)
NAMES=${FERKIT_GPU_CANDIDATES:-${!CANDIDATES[*]}}
THREADS=$(( $(nproc) / $(echo $NAMES | wc -w) ))
mkdir -p "$OUT/logs"
pids=()
for name in $NAMES; do
  [ -n "${CANDIDATES[$name]:-}" ] || { echo "unknown candidate $name (known: ${!CANDIDATES[*]})" >&2; exit 2; }
  # --time-budget compresses the cosine schedule to the budget if the epochs would not fit, so each
  # run still anneals and ends on time; its card then records both.
  # shellcheck disable=SC2086
  "$PY" -m ferkit_train.train --train "$DATA/train.bin" --val "$DATA/publictest.bin" --out "runs/gpu-$name" \
    --arch resnet --block basic --stem-stride 2 ${CANDIDATES[$name]} $RECIPE \
    --time-budget "$MINUTES" --threads "$THREADS" --no-progress $EXTRA > "$OUT/logs/$name.out" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for name in $NAMES; do
  tail -n 2 "$OUT/logs/$name.out"
  mkdir -p "$OUT/$name"
  cp "runs/gpu-$name/best.pt" "runs/gpu-$name/log.csv" "$OUT/$name/" 2>/dev/null || echo "$name: no checkpoint" >&2
done
tar -C "$OUT" -czf "$OUT/stdout-logs.tgz" logs && rm -r "$OUT/logs"
exit $status
