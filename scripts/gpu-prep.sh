#!/usr/bin/env bash
# Run HERE (the development machine) before scripts/gpu-check.sh goes to the GPU machine, which has no Node.js,
# no npm and no network. It builds what travels and stages it in folders .git/info/exclude ignores:
#   dist/      the compiled TypeScript (tests, bench, examples included)
#   .gpu/      build/Release/*.node (the CPU, MPI, CUDA and NCCL addons), build/cuda/kindling.fatbin, and only the
#              node_modules kindling needs at run time (jpeg-js, tar and tar's dependencies)
#   .device/   node itself (xz) and the CIFAR-10 JPEG archive with its converter, as ../shared/tools/device-prep.sh
#              --data lays them out (done here directly: that tool expects .git to be a folder, not a worktree's file)
# Then: run(command="bash scripts/gpu-check.sh", carry=["dist", ".gpu", ".device"], timeout_s=420).
set -euo pipefail
top=$(git rev-parse --show-toplevel)
cd "$top"
npx tsc -p tsconfig.json
node scripts/build-native.mjs  # the addons when their sources changed, and the fatbin (fails on a kernel compile error)
test -s build/cuda/kindling.fatbin || { echo "gpu-prep: no build/cuda/kindling.fatbin (is nvcc installed?)" >&2; exit 1; }
rm -rf .gpu && mkdir -p .gpu/build/Release .gpu/build/cuda .gpu/node_modules/@isaacs
cp build/Release/kindling_cpu.node build/Release/kindling_mpi.node build/Release/kindling_cuda.node build/Release/kindling_nccl.node .gpu/build/Release/
cp build/cuda/kindling.fatbin .gpu/build/cuda/
for m in jpeg-js tar minipass minizlib chownr yallist; do cp -r "node_modules/$m" .gpu/node_modules/; done
cp -r node_modules/@isaacs/fs-minipass .gpu/node_modules/@isaacs/
mkdir -p .device
node_bin=$(command -v node)
if [[ ! -f .device/node.xz || "$node_bin" -nt .device/node.xz ]]; then xz -T0 -6 -c "$node_bin" > .device/node.xz; fi
cp "$top/../shared/data/cifar10-jpeg.tar.gz" "$top/../shared/tools/cifar_jpeg_to_bin.py" .device/
bytes=$( (git ls-files -z | xargs -0 cat; find dist .gpu .device -type f -exec cat {} +) | wc -c)
echo "gpu-prep: ready; the run will send about $((bytes / 1048576)) MiB (limit 64 MiB)"
test "$bytes" -lt $((62 * 1048576)) || { echo "gpu-prep: too large to send" >&2; exit 1; }
