"""Issue 4's report figures from `experiments/feature_report.sh` runs: for each task given, the newest
runs/filter-full/smollm2-135m/<task>/ filter run's stability heatmaps and (when the α sweep ran) Δ_j vs α, written with
the candidates.json, features.json and stability.json they come from into figures/features/<task>/.

    python experiments/feature_report.py math translation
"""
import json, shutil, sys
from pathlib import Path
from igds.plots import plot_stability, plot_delta_alpha

def newest(folder, pattern):
    found = sorted(Path(folder).glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found: raise SystemExit(f'no {pattern} under {folder}: run experiments/feature_report.sh first')
    return found[-1]

def report(task, root=Path('runs/filter-full/smollm2-135m'), out=Path('figures/features')):
    f, cand = newest(root/task, 'filter-*/features.json'), newest(root/task, 'recall-*/candidates.json')
    d = out/task; d.mkdir(parents=True, exist_ok=True)
    for src in (f, f.parent/'stability.json', cand): shutil.copy(src, d/src.name)
    feats, stab = json.loads(f.read_text()), json.loads((f.parent/'stability.json').read_text())
    print(plot_stability(stab, d/'stability.png', f'smollm2-135m {task}: '))
    if feats.get('alpha_sweep'):
        print(plot_delta_alpha(feats, d/'delta_alpha.png', f'smollm2-135m {task}: Δ_j vs α (dev_select, n={feats["baseline"]["n_dev_select"]})'))

if __name__ == '__main__':
    for t in sys.argv[1:] or ['math']: report(t)
