#!/bin/bash
# Issue 4's report at the default sizes (probe 512, generic 512, N_c 64, dev_select 64, dev_check 64, K 16):
# recall, filter (likelihood Δ, α sweep unless EXTRA=--no-sweep) and stability for one task with the committed SAE,
# into runs/filter-full/; then `python experiments/feature_report.py TASK ...` draws figures/features/<task>/.
#   experiments/feature_report.sh math /path/to/shared/data
#   EXTRA=--no-sweep experiments/feature_report.sh translation /path/to/shared/data
set -e
cd "$(dirname "$0")/.." && source .venv/bin/activate && export HF_HUB_OFFLINE=1
T=$1; DATA=${2:-../shared/data}; SAE=data/saes/smollm2-135m-L15; R=runs/filter-full
time igds recall --model smollm2-135m --task $T --data-dir $DATA --sae-path $SAE --runs $R --show 10
time igds filter --model smollm2-135m --task $T --data-dir $DATA --sae $SAE --runs $R --stability $EXTRA
