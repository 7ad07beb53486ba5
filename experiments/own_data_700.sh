#!/usr/bin/env bash
# Issue 24: a 700-row data set in the GSM8K layout (question, answer) through the whole IGDS pipeline of `igds run`
# (training rows 5001-5700, outside the committed sample data/gsm8k) with the defaults (sizes by the rule, recall, the noise-aware filter, the FRS), timed.
#   bash experiments/own_data_700.sh [DATA_DIR] > figures/own_data/run700.txt 2>&1
set -eu
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}; OUT=runs/own700
mkdir -p $OUT
sed -n 5001,5700p $DATA/gsm8k/train.jsonl > $OUT/gsm8k700.jsonl
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
echo "\$ igds run --data gsm8k700.jsonl --prompt-field question --response-field answer --out $OUT/run"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" .venv/bin/igds run --data $OUT/gsm8k700.jsonl --prompt-field question \
  --response-field answer --out $OUT/run
.venv/bin/python - <<'PY'
import json
s = json.load(open('runs/own700/run/selection.json')); f = json.load(open('runs/own700/run/features.json'))
print('sizes and rule:', {k: v for k, v in s.items() if k in ('sizes', 'rule')})
print('F*:', [(r['id'], round(r['delta'], 4), round(r.get('se', float('nan')), 4)) for r in f['features']])
print({k: f.get(k) for k in ('keep_rule', 'null_q', 'dev_check', 'n_candidates') if k in f})
print('selected', s.get('n_selected'), 'of', s.get('n_pool'))
PY
.venv/bin/igds features report runs/own700/run/features.json 2>&1 | tail -n 20 || true
