"""Issue 23's instrument at reduced sizes: recall, Δ with its paired SE and a null of random non-candidate features,
F*'s mass by token class, and the FRS variants' relation to response length, for one task of the cpu-small grid.

    python experiments/content_features.py --task translation --data-dir ../shared/data [--out runs/cf]

The splits are the cpu-small grid's (probe 512, dev 64/64, pool 1000, split rule v1), cut down: the first `--probe`
probe examples, the first `--dev` of each dev set, so that the pool is exactly the pool of the committed cells.
Everything is cached under `--out/<task>/` (recall statistics, Δ per example, FRS statistics), so a rerun is cheap.
Writes `--out/<task>/summary.json` and prints the tables that the issue asks for.
"""
import argparse, json, time
from pathlib import Path
import numpy as np
from scipy.stats import spearmanr
from igds.config import ModelConfig, TaskConfig, RecallConfig, FilterConfig, SelectConfig, TOKEN_CLASSES, save_json, load_json
from igds.models import load_model
from igds.sae import load_sae
from igds.tasks import make_splits, generic_text, get_task
from igds.recall import recall_features
from igds.activations import load_stats, feature_freq
from igds.intervene import DevCache, delta_vectors, check
from igds.select import FRS
from igds.report import class_shares
from igds.baselines import Longest


def stat(d):
    d = d[np.isfinite(d)]
    return float(d.mean()), float(d.std(ddof=1)/np.sqrt(len(d)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--task', required=True); ap.add_argument('--data-dir', default='../shared/data')
    ap.add_argument('--out', default='runs/cf'); ap.add_argument('--probe', type=int, default=256)
    ap.add_argument('--generic', type=int, default=256); ap.add_argument('--dev', type=int, default=32)
    ap.add_argument('--n-candidates', type=int, default=32); ap.add_argument('--n-null', type=int, default=32)
    ap.add_argument('--classes', default='content,response'); ap.add_argument('--k', type=int, default=16)
    ap.add_argument('--z', type=float, default=1.645); ap.add_argument('--q', type=float, default=0.95)
    a = ap.parse_args()
    t0 = time.time(); out = Path(a.out)/a.task; out.mkdir(parents=True, exist_ok=True)
    tcfg = TaskConfig(name=a.task, data_dir=a.data_dir)  # the cpu-small sizes: its pool exactly
    sp = make_splits(tcfg); task = get_task(tcfg)
    probe, dsel, dchk = sp['probe'].select(range(a.probe)), sp['dev_select'].select(range(a.dev)), sp['dev_check'].select(range(a.dev))
    model, tok = load_model(ModelConfig()); layer = 15
    sae = load_sae('smollm2-135m', layer, hf_model=model, data_dir=a.data_dir)
    rcfg = RecallConfig(n_candidates=a.n_candidates, generic_size=a.generic, classes=a.classes)
    rec = recall_features(model, tok, sae, layer, probe, generic_text(tcfg, a.generic), rcfg, out/'recall', a.probe,
                          task.max_length)
    cands = [c['feature'] for c in rec['candidates']]
    print('recall:', json.dumps(rec['summary']), flush=True)
    print('top candidates (freq_task, freq_generic, lift):', [(c['feature'], round(c['freq_task'], 2), round(c['freq_generic'], 2),
                                                             round(c['lift'], 1)) for c in rec['candidates'][:8]])
    # Δ per example, candidates and a null of random live non-candidates (same amplification)
    fcfg = FilterConfig(classes=a.classes, batch_size=8)
    live = np.flatnonzero(feature_freq(load_stats(out/'recall'/'stats-probe'), 'example') > 0)
    null = sorted(np.random.default_rng(0).choice(np.setdiff1d(live, cands), a.n_null, replace=False).tolist())
    cache = DevCache(model, tok, dsel, layer, 8, task.max_length, False, fcfg.classes)
    D = delta_vectors(model, sae, cache, cands + null, fcfg, resume=out/'deltas.jsonl')  # kept as measured
    st = {j: stat(D[j]) for j in cands + null}
    qnull = float(np.quantile([st[j][0] for j in null], a.q))
    rows = [dict(id=j, delta=st[j][0], se=st[j][1], z=st[j][0]/st[j][1] if st[j][1] > 0 else 0.0, null_q=qnull) for j in cands]
    for r in rows: r['kept_v1'] = r['delta'] > 0; r['kept'] = r['delta'] > qnull and r['z'] > a.z
    kept = [r['id'] for r in sorted(rows, key=lambda r: -r['delta']) if r['kept']][:a.k]
    v1 = [r['id'] for r in sorted(rows, key=lambda r: -r['delta']) if r['kept_v1']][:a.k]
    print(f'null: {a.n_null} live non-candidates, Δ quantile {a.q} = {qnull:+.4f}; kept {len(kept)} (Δ > 0 would keep {len(v1)})')
    for r in sorted(rows, key=lambda r: -r['delta'])[:20]:
        print(f"  feature {r['id']:>5}  Δ {r['delta']:+.4f} ± {r['se']:.4f}  z {r['z']:+.2f}  {'KEPT' if r['kept'] else ''}")
    dc = DevCache(model, tok, dchk, layer, 8, task.max_length, False, fcfg.classes)
    chk = {name: check(model, sae, dc, fs, fcfg) if fs else None for name, fs in (('kept', kept), ('delta>0', v1))}
    print('dev_check (all of the set amplified together):', json.dumps(chk))
    # where F* fires, and how the FRS variants relate to response length on the committed pool
    pool = sp['pool']
    n_resp = Longest(tok, task.max_length).score(pool)
    fs = kept or v1
    frs = FRS(model, tok, sae, fs, SelectConfig(classes='all'), layer=layer, probe=probe, cache_dir=out/'score-cache', progress=False)
    shares = class_shares(frs, pool.select(range(24)))
    print('F* mass by class (first 24 pool examples):', {c: round(v, 3) for c, v in shares['share'].items()},
          f"{shares['template_features']} of {shares['n_features']} > 50 % template")
    stats = frs.feature_stats(pool); half = len(pool)//2
    longest = set(np.argsort(-n_resp, kind='stable')[:half])
    variants = []
    for classes in ('content,response', 'content', 'response'):
        for norm in ('none', 'probe_mean'):
            for reduce in ('sum', 'mean'):
                f = FRS(model, tok, sae, fs, SelectConfig(classes=classes, frs_norm=norm, frs_reduce=reduce), layer=layer,
                        probe=probe, cache_dir=out/'score-cache', progress=False)
                s = f.frs_from_stats(stats); ok = np.isfinite(s)
                top = set(np.argsort(-np.where(ok, s, -np.inf), kind='stable')[:half])
                variants.append(dict(classes=classes, norm=norm, reduce=reduce, rho=float(spearmanr(s[ok], n_resp[ok])[0]),
                                     longest_share=len(top & longest)/half))
    print(f"{'classes':<18}{'norm':<12}{'reduce':<8}{'ρ(FRS, len)':>12}{'longest half kept':>19}")
    for v in variants: print(f"{v['classes']:<18}{v['norm']:<12}{v['reduce']:<8}{v['rho']:>12.3f}{v['longest_share']:>19.3f}")
    save_json(dict(task=a.task, sizes=dict(probe=a.probe, generic=a.generic, dev=a.dev, n_candidates=a.n_candidates, n_null=a.n_null),
                   classes=a.classes, recall=rec['summary'], candidates=rec['candidates'], deltas=rows,
                   null=dict(ids=null, delta=[st[j][0] for j in null], se=[st[j][1] for j in null], quantile=a.q, value=qnull),
                   kept=kept, kept_delta_positive=v1, check=chk, shares=shares, variants=variants,
                   seconds=round(time.time() - t0, 1)), out/'summary.json')
    print(f'{a.task}: {time.time() - t0:.0f} s; written {out/"summary.json"}')


if __name__ == '__main__': main()
