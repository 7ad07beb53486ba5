"""Scoring throughput and memory of the FRS against the model-based baselines, measured side by side in one run.

    nice -n 10 python bench/scoring.py --data-dir /work/shared/data --n 1000 --rss 1000 5000 --batch-size 8

On `--n` GSM8K training examples (a seeded sample of the training split), with the same batch size and the same
batching (`igds.selection.score_pool`, length-sorted batches, score cache off) for every method, it times

- limit: the forward stopped after layer L alone (`resid_at`), no SAE: the most any FRS can do;
- FRS:   the same forward plus the encoder columns of F* and the per-span sums (`igds.select.FRS`);
- Loss:  the full forward, LM head on the response positions (`igds.baselines.Loss`);
- IFD:   Loss's pass plus a pass over the response alone (`igds.baselines.IFD`).

From the scores just timed it then prints the overlap table: the Jaccard index of the IGDS selection (`--budget`, 50 %)
with that of Full, Random (seed 0), Loss, IFD and ZIP (each method's own selection rule), and each subset's mean length
in tokens, so a reader sees whether the FRS just picks long examples (`--out DIR` keeps the scores in scores.parquet).
`--overlap-from DIR/scores.parquet --features F` redraws that table for another F* without timing anything: it scores the
same pool with the FRS alone and takes Loss and IFD from the saved scores (they do not depend on F*).

The pool is cut into `--rounds` blocks and every block is scored by each method in turn (the order rotating), so that
a change in the machine's load during the run hits every method alike. Then, in fresh subprocesses (one after the other), the
FRS scores the first N examples for each N of `--rss`; each reports its resident memory after loading and its peak
resident memory while scoring (VmHWM, reset through /proc/self/clear_refs just before scoring).

The SAE is the committed one in data/saes/<model>-L<layer> when it exists, else a random JumpReLU SAE of the right shape
(d_model x 8 d_model); F* is features.json's when `--features` is given, else `--n-features` random latents.
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path
import numpy as np
import torch

GOALS = [('FRS / Loss', 1.8, '>='), ('FRS / IFD', 3.0, '>='), ('FRS / limit', 0.9, '>='), ('RSS(max) / RSS(min)', 1.10, '<=')]

def setup(a):
    "Model, tokenizer, SAE, F*, a description, and the pool of the first a.pool_n examples."
    from igds.models import load_model, get_spec, resid_at
    from igds.tasks import get_task
    from igds.select import random_sae, load_features
    model, tok = load_model(a.model)
    L = a.layer if a.layer is not None else get_spec(a.model).layer
    folder = Path(__file__).resolve().parent.parent/'data'/'saes'/f'{a.model}-L{L}'
    if (folder/'cfg.json').exists():
        from sae_lens import SAE
        sae, what = SAE.load_from_disk(str(folder), dtype='float32').eval(), f'committed SAE {folder.name}'
    else:
        d = model.config.hidden_size
        sae, what = random_sae(d, 8*d, hook=f'model.layers.{L}'), f'RANDOM JumpReLU SAE {d} x {8*d} (no committed SAE in {folder})'
    if a.features: feats = load_features(a.features, a.model, L); what += f', F* = {len(feats.ids)} features from {a.features}'
    else:
        ids = np.random.default_rng(0).choice(sae.cfg.d_sae, a.n_features, replace=False).tolist()
        feats = load_features(ids); what += f', F* = {a.n_features} RANDOM latents (seed 0)'
    train = get_task('math').load('train', 'local', a.data_dir)
    pool = train.select(np.random.default_rng(0).permutation(len(train))[:a.pool_n])
    return model, tok, sae, feats, L, what, pool

def selectors(model, tok, sae, feats, L, a):
    from igds.config import SelectConfig
    from igds.select import FRS, score_pool
    from igds.models import resid_at
    from igds.tasks import encode, collate
    from igds.baselines import Loss, IFD
    cfg = SelectConfig(batch_size=a.batch_size)
    frs = FRS(model, tok, sae, feats, cfg, layer=L, max_length=512, cache_dir=None, progress=False, chunk_size=a.chunk_size)
    def limit_run(encs):
        b = collate(encs, tok.pad_token_id); resid_at(model, b['input_ids'], b['attention_mask'], L); return np.zeros(len(encs))
    limit = lambda pool: score_pool(pool, lambda ex: encode(tok, ex, 512), limit_run, None, a.batch_size, a.chunk_size, progress=False)
    kw = dict(max_length=512, batch_size=a.batch_size, cache_dir=None, progress=False, chunk_size=a.chunk_size)
    loss, ifd = Loss(model, tok, **kw), IFD(model, tok, **kw)
    return {'limit': limit, 'FRS': frs.score, 'Loss': loss.score, 'IFD': ifd.score}, {'FRS': frs, 'Loss': loss, 'IFD': ifd}

def vm(key):
    for line in open('/proc/self/status'):
        if line.startswith(key): return int(line.split()[1])/1024  # MiB

def child_rss(a):
    "Score the first a.pool_n examples with the FRS; print RSS after loading and peak RSS while scoring (MiB) as JSON."
    model, tok, sae, feats, L, what, pool = setup(a)
    if not a.mapped_weights:  # copy the (memory-mapped safetensors) weights into anonymous memory, all resident now
        with torch.no_grad():
            for prm in model.parameters(): prm.data = prm.data.clone()
    frs = selectors(model, tok, sae, feats, L, a)[0]['FRS']
    base = vm('VmRSS:')
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')  # reset the peak (VmHWM) to the current RSS
    t0 = time.perf_counter(); s = frs(pool); dt = time.perf_counter() - t0
    print(json.dumps(dict(n=len(pool), rss_loaded=base, peak_scoring=vm('VmHWM:'), seconds=dt, finite=bool(np.isfinite(s).all()),
                          anon=vm('RssAnon:'), file=vm('RssFile:'))))

def speed(a):
    "Examples/s of each method on a.n examples, interleaved in rounds; the speed ratios (wall, CPU)."
    model, tok, sae, feats, L, what, pool = setup(a)
    print(f'{a.model}, L = {L}, {what}; {len(pool)} GSM8K train examples, batch {a.batch_size}, chunk {a.chunk_size}, '
          f'torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}', flush=True)
    fns, sels = selectors(model, tok, sae, feats, L, a)
    for f in fns.values(): f(pool.select(range(a.batch_size)))  # warm-up
    wall, cpu, names = {k: 0.0 for k in fns}, {k: 0.0 for k in fns}, list(fns)
    scores = {k: np.zeros(len(pool)) for k in fns if k != 'limit'}
    blocks = np.array_split(np.arange(len(pool)), a.rounds)
    for r, blk in enumerate(blocks):
        part = pool.select(blk)
        for k in names[r % len(names):] + names[:r % len(names)]:
            t0, c0 = time.perf_counter(), time.process_time(); out = fns[k](part)
            if k != 'limit': scores[k][blk] = out
            wall[k] += time.perf_counter() - t0; cpu[k] += time.process_time() - c0
        print(f'  round {r+1}/{a.rounds} done, load average {os.getloadavg()[0]:.1f}', flush=True)
    n = len(pool)
    print(f'\n{"method":8} {"examples/s":>11} {"wall s":>8} {"CPU s":>8}')
    for k in names: print(f'{k:8} {n/wall[k]:11.2f} {wall[k]:8.1f} {cpu[k]:8.1f}')
    ratios = {'FRS / Loss': wall['Loss']/wall['FRS'], 'FRS / IFD': wall['IFD']/wall['FRS'], 'FRS / limit': wall['limit']/wall['FRS']}
    cpu_r = {'FRS / Loss': cpu['Loss']/cpu['FRS'], 'FRS / IFD': cpu['IFD']/cpu['FRS'], 'FRS / limit': cpu['limit']/cpu['FRS']}
    if a.out: save_scores(a.out, pool, scores, what)
    overlap(pool, tok, sels, scores, a.budget)
    return ratios, cpu_r

def save_scores(out, pool, scores, what):
    "The scores of every method, one column each, with the pool's ids (so the overlap table can be redrawn)."
    import pandas as pd
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({'id': pool['id'], **scores}).to_parquet(out/'scores.parquet')
    (out/'setup.txt').write_text(what + '\n')

def overlap(pool, tok, sels, scores, budget=0.5):
    "Jaccard of the IGDS selection with each baseline's at `budget`, and each subset's mean length (tokens, prompt + response)."
    from igds.baselines import Full, Random, ZIP
    from igds.tasks import encode
    ids = list(pool['id']); n_tok = dict(zip(ids, (len(encode(tok, ex, 512)['input_ids']) for ex in pool)))
    # each method's own selection rule (Loss: highest; IFD: highest below 1) applied to the scores timed above
    sel = {'IGDS': sels['FRS'].select(pool, budget, scores['FRS']), 'Full': Full().select(pool, 1.0),
           'Random': Random(0).select(pool, budget), 'Loss': sels['Loss'].select(pool, budget, scores['Loss']),
           'IFD': sels['IFD'].select(pool, budget, scores['IFD']), 'ZIP': ZIP().select(pool, budget)}
    g = set(sel['IGDS'])
    print(f'\nOverlap with the IGDS selection ({budget:.0%} of {len(ids)}; Full keeps all), and mean length of each subset')
    print(f'{"method":8} {"n":>5} {"Jaccard":>8} {"mean tokens":>12}')
    for k in ['IGDS', 'Full', 'Random', 'Loss', 'IFD', 'ZIP']:
        s = set(sel[k]); print(f'{k:8} {len(s):5} {len(g & s)/len(g | s):8.3f} {np.mean([n_tok[i] for i in s]):12.1f}')


def overlap_from(a):
    "The overlap table for a.features, with the Loss and IFD scores of an earlier run (its pool must be this pool)."
    import pandas as pd
    model, tok, sae, feats, L, what, pool = setup(a)
    old = pd.read_parquet(a.overlap_from)
    if list(old['id']) != list(pool['id']):
        raise SystemExit(f'{a.overlap_from}: its {len(old)} ids are not the pool of --n {a.n} (the first {len(pool)} of the seeded sample)')
    sels = selectors(model, tok, sae, feats, L, a)[1]
    print(f'{a.model}, L = {L}, {what}; {len(pool)} GSM8K train examples; Loss and IFD scores from {a.overlap_from}', flush=True)
    scores = {'FRS': sels['FRS'].score(pool), 'Loss': old['Loss'].to_numpy(), 'IFD': old['IFD'].to_numpy()}
    if a.out: save_scores(a.out, pool, scores, what)
    overlap(pool, tok, sels, scores, a.budget)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='smollm2-135m'); p.add_argument('--layer', type=int, default=None)
    p.add_argument('--data-dir', default='/work/shared/data'); p.add_argument('--n', type=int, default=1000)
    p.add_argument('--rss', type=int, nargs='*', default=[1000, 5000], help='pool sizes for the memory runs')
    p.add_argument('--batch-size', type=int, default=8); p.add_argument('--rounds', type=int, default=4)
    p.add_argument('--chunk-size', type=int, default=1024, help='examples per chunk of the pool scorer (memory is bounded by a chunk)')
    p.add_argument('--features', default=None); p.add_argument('--n-features', type=int, default=16)
    p.add_argument('--budget', type=float, default=0.5, help='budget of the overlap table')
    p.add_argument('--mapped-weights', action='store_true', help='memory runs: leave the weights memory-mapped (their pages '
                   'then count in the peak as scoring first touches them, e.g. the embedding rows of new token ids)')
    p.add_argument('--out', default=None, help='folder for scores.parquet (every method, with ids)')
    p.add_argument('--overlap-from', default=None, help='a scores.parquet of an earlier run: only redraw the overlap table')
    p.add_argument('--child-rss', type=int, default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child_rss: a.pool_n = a.child_rss; return child_rss(a)
    a.pool_n = a.n
    if a.overlap_from: return overlap_from(a)
    ratios, cpu_r = {}, {}
    if a.n: ratios, cpu_r = speed(a)
    if a.rss:
        print(f'\nFRS memory: {len(a.rss)} subprocesses (one after the other), scoring {a.rss} examples; weights '
              f'{"memory-mapped (pages count when first touched)" if a.mapped_weights else "made resident before measuring"}', flush=True)
        base = [sys.executable, __file__, '--model', a.model, '--data-dir', a.data_dir, '--batch-size', str(a.batch_size), '--chunk-size', str(a.chunk_size),
                '--n-features', str(a.n_features)] + (['--layer', str(a.layer)] if a.layer is not None else []) + \
               (['--features', a.features] if a.features else []) + (['--mapped-weights'] if a.mapped_weights else [])
        # one at a time: two 2-thread torch processes on 2 cores slow each other down many times over
        res = [json.loads(subprocess.run(base + ['--child-rss', str(m)], stdout=subprocess.PIPE, text=True, check=True).stdout.strip().splitlines()[-1])
               for m in a.rss]
        for r in res: print(f"  n = {r['n']:5}: RSS after loading {r['rss_loaded']:7.0f} MiB, peak while scoring {r['peak_scoring']:7.0f} MiB "
                            f"(+{r['peak_scoring'] - r['rss_loaded']:.0f}), at the end anonymous {r['anon']:.0f} / file-backed {r['file']:.0f} MiB, "
                            f"{r['seconds']:.0f} s, all scores finite: {r['finite']}")
        ratios['RSS(max) / RSS(min)'] = res[-1]['peak_scoring']/res[0]['peak_scoring']
    print('\nratio (speed: wall-clock examples/s of FRS over the other; CPU-time ratio in brackets)   goal')
    for name, goal, op in GOALS:
        if name not in ratios: continue
        v = ratios[name]; ok = v >= goal if op == '>=' else v <= goal
        extra = f'  [{cpu_r[name]:.2f}]' if name in cpu_r else ''
        print(f'  {name:22} {v:6.2f}{extra:9}  {op} {goal}  {"met" if ok else "MISSED"}')

if __name__ == '__main__': main()
