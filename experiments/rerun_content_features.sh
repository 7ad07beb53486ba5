#!/usr/bin/env bash
# Issue 23's rerun: IGDS with the content-features instrument (token classes, the noise-aware keep rule) on the
# committed cpu-small pools and test sets, so the finished Full, Random, Loss, IFD, ZIP and igds-v1 cells stay the
# comparison. Resumable: a finished cell is skipped (its results file exists), a killed one resumes from its last
# checkpoint, and each finished cell is committed by the grid (--commit). Order: one IGDS cell per task first, then
# Longest on summarization (the length control it lacked), the ablations, and the remaining seeds.
#   nohup setsid bash experiments/rerun_content_features.sh > runs/rerun23.out 2>&1 &
set -u
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/python experiments/checkpoints.py restore
.venv/bin/python experiments/checkpoints.py watch --every 600 > runs/checkpoints.log 2>&1 &
trap 'kill $! 2>/dev/null; .venv/bin/python experiments/checkpoints.py save --commit' EXIT
G=".venv/bin/igds grid --preset cpu-small --data-dir ${DATA:-../shared/data} --commit"
$G --tasks translation --seeds 0 --methods igds
$G --tasks summarization --seeds 0 --methods igds,longest
$G --tasks math --seeds 0 --methods igds
$G --tasks translation,summarization,math --seeds 0 --methods igds-norecall,igds-nofilter,igds-randfeat
$G --tasks translation,summarization --seeds 1 --methods igds
$G --tasks math --seeds 1,2 --methods igds
