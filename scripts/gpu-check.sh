#!/usr/bin/env bash
# The CUDA backend's check on a lent GPU machine (H100/H200, driver 580, PyTorch 2.11+cu130 in python3, no Node.js,
# no network). Prepare here first, then run it there with the device tool:
#     bash scripts/gpu-prep.sh
#     run(command="bash scripts/gpu-check.sh", carry=["dist", ".gpu", ".device"], timeout_s=420)
# It finishes in at most 6 minutes: every step has its own time limit, and a step that would overrun the total is
# cut to what is left, so one hung step can't eat the budget (a 15-minute device budget then still fits a rerun).
# Steps (NCCL's four come after the test suites: scripts/nccl-check.mjs): the loading-path self check (driver, fatbin kernel launch, one cuBLASLt matmul, one cuDNN conv, async read,
# memory figures) and a faulting kernel in a process of its own; the CUDA and device-parameterised test suites on
# cuda; the tutorial on cuda:0 for 2 epochs; airbench94 on cuda beside PyTorch's (bench/airbench94_torch.py);
# `npm run bench -- --device cuda` (as `node dist/bench/run.js`: no npm
# there) beside PyTorch on the same GPU. Writes $OUT/gpu-check.json (every step: exit code, seconds, output tail, and
# the parsed JSON the self check and the bench print) and $OUT/gpu-check.log (all output).
set -uo pipefail
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
LOG="$OUT/gpu-check.log"
STEPS="$OUT/.steps"
: > "$LOG"
: > "$STEPS"
T0=$(date +%s)
TOTAL=${GPU_CHECK_SECONDS:-350}
KDATA=${KDATA:-/tmp/kdata}

# Node and the runtime files the run carried (scripts/gpu-prep.sh staged them).
mkdir -p /tmp/nodebin && xz -dc .device/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
[ -e node_modules ] || cp -r .gpu/node_modules node_modules
[ -e build ] || cp -r .gpu/build build
# CIFAR-10 for the tutorial, converted in the background while the first steps run.
if [ ! -f $KDATA/cifar-10-batches-bin/test_batch.bin ]; then
  (timeout 200 python3 .device/cifar_jpeg_to_bin.py .device/cifar10-jpeg.tar.gz $KDATA/cifar-10-batches-bin >>"$LOG" 2>&1) &
  DATA_PID=$!
fi

# step NAME SECONDS COMMAND...: runs with a limit of min(SECONDS, what is left), logs, records one line in $STEPS.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((TOTAL - ($(date +%s) - T0)))
  [ "$limit" -gt "$left" ] && limit=$left
  if [ "$limit" -le 5 ]; then
    printf '%s\t%s\t%s\t%s\n' "$name" "skipped" "0" "$OUT/.$name.out" >>"$STEPS"
    : >"$OUT/.$name.out"
    return
  fi
  echo "=== $name (limit ${limit}s): $*" | tee -a "$LOG"
  local s=$(date +%s)
  timeout -k 5 "$limit" "$@" >"$OUT/.$name.out" 2>&1
  local rc=$?
  cat "$OUT/.$name.out" >>"$LOG"
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - s))" "$OUT/.$name.out" >>"$STEPS"
  echo "=== $name: exit $rc after $(($(date +%s) - s))s" | tee -a "$LOG"
}

step gpu 10 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
step selfcheck 60 node scripts/cuda-selfcheck.mjs
step fault 30 node scripts/cuda-selfcheck.mjs --fault
step doctor 20 node bin/kindling.js doctor
step tests 90 node --test --test-reporter=tap dist/test/cuda_locate.test.js dist/test/cuda_allocator.test.js \
  dist/test/cuda_finalization.test.js dist/test/cuda_device.test.js dist/test/cuda_build.test.js \
  dist/test/autograd.test.js dist/test/nn.test.js dist/test/optim.test.js dist/test/reorder_masks.test.js \
  dist/test/cuda_op_table.test.js
# NCCL (never run on a GPU before): world size 1, then what two ranks on the one GPU do.
step nccl 45 node scripts/nccl-check.mjs
step nccl2 70 node scripts/nccl-check.mjs --two
# The process group on NCCL (world 1, DDP), and 2 MPI ranks on the one GPU with host staging (when mpirun exists).
step ncclpg 40 node scripts/nccl-check.mjs --pg
step mpicuda 45 node scripts/nccl-check.mjs --mpi2
[ -n "${DATA_PID:-}" ] && wait "$DATA_PID"
mkdir -p "$OUT/.tutorial"
step tutorial 75 env KINDLING_DATA=$KDATA TUTORIAL_EPOCHS=2 TUTORIAL_OUT="$OUT/.tutorial" node dist/examples/cifar10_tutorial.js
# airbench94 (issue 15): kindling's recipe on cuda, then PyTorch's on the same card (float32 as kindling, then fp16
# channels_last as airbench itself runs). One run each: the time and TTA accuracy go into gpu-check.json.
step airbench 100 node bin/kindling.js train --recipe airbench94 --device cuda --data $KDATA --out "$OUT/.airbench" --seed 0 --force
step airbench_torch 60 python3 bench/airbench94_torch.py --data $KDATA --device cuda --precision fp32
step airbench_torch16 40 python3 bench/airbench94_torch.py --data $KDATA --device cuda --precision fp16
step bench 120 node dist/bench/run.js --device cuda --runs 3 --json

# One JSON of everything (node parses the JSON lines the self check and the bench print).
node - "$STEPS" "$OUT/gpu-check.json" "$T0" <<'JS'
const fs = require("fs");
const [stepsFile, outFile, t0] = process.argv.slice(2);
const steps = {};
for (const line of fs.readFileSync(stepsFile, "utf8").trim().split("\n").filter(Boolean)) {
  const [name, rc, seconds, file] = line.split("\t");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const jsonLine = text.split("\n").reverse().find((l) => l.startsWith("{"));
  let json = null;
  try { json = jsonLine ? JSON.parse(jsonLine) : null; } catch { json = null; }
  const tap = name === "tests" ? Object.fromEntries([...text.matchAll(/^# (pass|fail|skipped|cancelled) (\d+)$/gm)].map((m) => [m[1], +m[2]])) : undefined;
  steps[name] = { exit: rc === "skipped" ? null : Number(rc), skipped: rc === "skipped", timedOut: rc === "124" || rc === "137", seconds: Number(seconds), json, tap, tail: text.slice(-3000) };
  fs.rmSync(file, { force: true });
}
const tutorial = steps.tutorial?.tail ?? "";
const acc = /Accuracy of the network on the 10000 test images: (\d+) %/.exec(tutorial);
const air = /TTA val accuracy: ([\d.]+) % .*\(training ([\d.]+)/.exec(steps.airbench?.tail ?? "");
const result = {
  when: new Date().toISOString(),
  seconds: Math.round(Date.now() / 1000 - Number(t0)),
  gpu: steps.gpu?.tail.trim() ?? null,
  ok: Object.values(steps).every((s) => s.exit === 0),
  tutorialAccuracy: acc ? Number(acc[1]) : null,
  airbench94: air ? { ttaValAccPercent: Number(air[1]), trainSeconds: Number(air[2]), torchFp32: steps.airbench_torch?.json ?? null, torchFp16: steps.airbench_torch16?.json ?? null } : null,
  steps,
};
fs.writeFileSync(outFile, JSON.stringify(result, null, 1));
console.log(`gpu-check: ${result.ok ? "all steps passed" : "some steps failed"} in ${result.seconds}s; ${outFile}`);
JS
rm -f "$STEPS"
rm -rf "$OUT/.tutorial" "$OUT/.airbench"
