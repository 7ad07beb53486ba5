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
/usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KiB" .venv/bin/igds run --data $OUT/gsm8k700.jsonl --prompt-field question \
  --response-field answer --out $OUT/run
.venv/bin/python - <<'PY'
import json
d = 'runs/own700/run/'
c, f, s = (json.load(open(d + n)) for n in ('candidates.json', 'features.json', 'selection.json'))
print('recall:', {k: c['summary'][k] for k in ('n_probe', 'n_generic', 'n_candidates', 'ties')})
print(f"keep rule {f['settings']['filter']['keep_rule']!r}: {len(f['features'])} of {len(f['candidates'])} candidates kept, "
      f"null: {f['null']['n_null']} random live non-candidates, q{f['null']['q']} = {f['null']['quantile']:+.5f}")
for r in f['features']:
    print(f"  feature {r['id']:>5}  Δ {r['delta']:+.4f} ± {r['se']:.4f}  z {r['z']:+.2f}  null q95 {r['null_q']}  passed {r['passed']}")
k = f['check']; print(f"dev_check ({k['n']} examples, not used to choose): Δ {k['delta']:+.4f} ± {k['se']:.4f}, {k['improved']:.0%} improved")
print('selected', s['n_selected'], 'of', s['n_pool'], s['info'])
PY
