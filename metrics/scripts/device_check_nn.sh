#!/usr/bin/env bash
# The CUDA checks of graphgen.nn on a GPU machine (the `device` tool; CI has no GPU).
# Runs from the repository root without installing graphgen (PYTHONPATH=.), under the machine's own torch.
# Writes under $OUT: pytest_cuda.log, bench_encoders_scaling_cuda.json, bench.log, env.txt.
set -u -o pipefail
export PYTHONPATH=. PYTHONUNBUFFERED=1 GRAPHGEN_SCAN_KERNEL=0
OUT=${OUT:-/tmp/device_out}
mkdir -p "$OUT"
{ nvidia-smi -L; python3 -c "import torch, torch_geometric as g; print('torch', torch.__version__, 'pyg', g.__version__, torch.cuda.get_device_name(0))"; nproc; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
python3 -m pytest -q -W default -p no:cacheprovider --tb=short tests/nn/test_cuda.py 2>&1 | tee "$OUT/pytest_cuda.log" | tail -40
python3 -m graphgen bench encoders --part scaling --device cuda --json "$OUT/bench_encoders_scaling_cuda.json" 2>&1 | tee "$OUT/bench.log" | tail -40
python3 metrics/scripts/scan_methods_cuda.py "$OUT/scan_methods_cuda.json" 2>&1 | tee "$OUT/scan.log" | tail -20
