#!/usr/bin/env bash
# The GPU run of csbox, ready to go: on a machine with an NVIDIA GPU it
#   1. installs the gpu extra (CuPy, cuFINUFFT) with the test and learn (torch) extras,
#   2. runs the CuPy and torch-CUDA test subset (the backend-parametrised tests whose backend
#      id is cupy, cupy-f32 or torch-cuda-f32: `-k "cupy or cuda"`, slow tests left out),
#   3. runs benchmarks/bench_gpu.py: one table, NumPy (CPU) and each CUDA backend side by side
#      (FISTA 512^2, l1-SENSE 16 coils 320^2, NUFFT radial, ESPIRiT, TV, SAR, Sinkhorn),
# each phase under its own time limit so that the whole run stays under 8 minutes.
# Without a GPU (nvidia-smi missing or listing no device) it says so and exits 0, so CI can
# call it everywhere.
#
# Usage: bash benchmarks/gpu.sh        (from anywhere; it works in the repository root)
#   CSBOX_GPU_SKIP_INSTALL=1   use the environment as it is (no pip install)
#   CSBOX_GPU_LOG=dir          also keep each phase's full output in dir (default: a temp dir)
set -u
cd "$(dirname "$0")/.." || exit 1

if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "benchmarks/gpu.sh: nvidia-smi not found: no NVIDIA GPU here, skipped (GPU table not measured)"
    exit 0
fi
if ! nvidia-smi -L 2>/dev/null | grep -q "^GPU"; then
    echo "benchmarks/gpu.sh: nvidia-smi lists no GPU, skipped (GPU table not measured)"
    exit 0
fi

log=${CSBOX_GPU_LOG:-$(mktemp -d)}
mkdir -p "$log"
t_start=$(date +%s)
phase() { echo "== $1 ($(($(date +%s) - t_start)) s into the run)"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python --version

status=0
if [ "${CSBOX_GPU_SKIP_INSTALL:-0}" != 1 ]; then
    phase "install: pip install -e .[gpu,test,learn]"
    if ! timeout 240 python -m pip install -q -e ".[gpu,test,learn]" >"$log/install.txt" 2>&1; then
        echo "install failed or ran past 240 s (see $log/install.txt):"; tail -5 "$log/install.txt"
        status=1
    fi
fi
python - <<'EOF'
try:
    import cupy
    print("cupy", cupy.__version__, "devices:", cupy.cuda.runtime.getDeviceCount())
except Exception as e:
    print("cupy unavailable:", type(e).__name__, e)
try:
    import torch
    print("torch", torch.__version__, "cuda:", torch.cuda.is_available())
except Exception as e:
    print("torch unavailable:", type(e).__name__, e)
EOF

phase "tests: the CuPy and torch-CUDA subset"
timeout 180 python -m pytest -q -p no:cacheprovider -m "not slow" -k "cupy or cuda" tests >"$log/tests.txt" 2>&1
rc=$?
tail -15 "$log/tests.txt"
if [ $rc -eq 5 ]; then
    echo "no CUDA test was collected (neither CuPy nor torch sees the GPU)"; status=1
elif [ $rc -ne 0 ]; then
    echo "tests: exit $rc (124: past the 180 s limit)"; status=1
fi

phase "benchmarks: benchmarks/bench_gpu.py"
(cd benchmarks && timeout 300 python bench_gpu.py) 2>&1 | tee "$log/bench.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

phase "done: exit $status, logs in $log"
exit $status
