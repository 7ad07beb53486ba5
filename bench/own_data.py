"""`igds run --method igds` on a large own-data file: the selection stage's throughput against the FRS alone on the
same rows, and peak memory at 1,000 and 10,000 rows (issue 24's performance goals).

    python bench/own_data.py --data-dir /work/shared/data --sizes 1000 10000

The pool is DialogSum's training split written as Alpaca JSONL (the first max(--sizes) rows), the probe file 500 rows of
its dev split, so the recall and filter stages do not depend on the pool size: they run once (reduced sizes: they are
not what is timed) and their artifacts are copied into each measured run's folder. Then, in a fresh subprocess per
size N (one after the other), `igds run --pool-size N` runs through the CLI with recall and filtering cached; the
subprocess times its selection stage (scoring, token counts, ranking, writing), reads its peak resident memory
(VmHWM), and then times `FRS.score` (`igds.select`, as bench/scoring.py does: score cache off, same batch size) on the
same pool rows (`--frs-rows K`: on a seeded sample of K of them, when the pool is larger). Goals: selection-stage
examples/s ≥ 0.9 × the FRS's; RSS(10,000) ≤ 1.1 × RSS(1,000). Each size's result is kept in `run-<N>/result.json`, so a
stopped bench measures only the sizes it lacks (`--force` measures all again).
"""
import argparse, json, os, random, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = 'import sys; from igds.cli import main; sys.exit(main(sys.argv[1:]))'
FIXED = ['--method', 'igds', '--dev-select-size', '16', '--dev-check-size', '16', '--n-candidates', '8', '--n-null', '8',
         '--keep-rule', 'positive', '--batch-size', '8']

def write_alpaca(src:Path, dest:Path, n:int):
    rows = [json.loads(l) for l in src.read_text().splitlines()[:n]]
    dest.write_text(''.join(json.dumps(dict(instruction='Summarize the dialogue.', input=r['dialogue'],
                                            output=r['summary']), ensure_ascii=False) + '\n' for r in rows))
    return len(rows)

def vm(key:str)->float:
    for line in open('/proc/self/status'):
        if line.startswith(key): return int(line.split()[1])/1024  # MiB

def child(a):
    "One measured `igds run`: the selection stage's seconds, peak RSS, then FRS.score's seconds on the same rows."
    import igds.run as R
    from igds.cli import main
    from igds.config import SelectConfig
    from igds.select import FRS, load_features
    took, seen = {}, {}
    stage = R.select_stage
    def timed(out, L, scfg, pool, features, probe, *args, **kw):
        t = time.perf_counter(); r = stage(out, L, scfg, pool, features, probe, *args, **kw)
        took['select'] = time.perf_counter() - t; seen.update(L=L, pool=pool, features=features); return r
    R.select_stage = timed
    assert main(['run', '--data', a.pool, '--probe', a.probe, '--pool-size', str(a.n), '--out', a.out, *FIXED]) == 0
    rss = vm('VmHWM')
    L, pool = seen['L'], seen['pool']
    feats = load_features(seen['features'])
    frs = FRS(L.model, L.tok, L.sae, feats, SelectConfig(batch_size=8), layer=L.layer, max_length=512, cache_dir=None,
              progress=False)
    rows = pool if len(pool) <= a.frs_rows else pool.select(sorted(random.Random(0).sample(range(len(pool)), a.frs_rows)))
    t = time.perf_counter(); frs.score(rows); took['frs'] = time.perf_counter() - t
    r = dict(n=len(pool), select_s=took['select'], frs_n=len(rows), frs_s=took['frs'], rss_mib=rss, n_fstar=len(feats.ids))
    (Path(a.out)/'result.json').write_text(json.dumps(r)); print(json.dumps(r))

def main_bench(a):
    work = Path(a.out); work.mkdir(parents=True, exist_ok=True)
    pool, probe = work/'dialogsum_alpaca.jsonl', work/'probe.jsonl'
    n = write_alpaca(Path(a.data_dir)/'dialogsum/dialogsum.train.jsonl', pool, max(a.sizes))
    write_alpaca(Path(a.data_dir)/'dialogsum/dialogsum.dev.jsonl', probe, 500)
    env = dict(os.environ, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    base = work/'stages'
    t = time.time()
    subprocess.run([sys.executable, '-c', CLI, 'run', '--data', pool, '--probe', probe, '--pool-size', '64',
                    '--out', base, *FIXED], check=True, env=env)
    print(f"recall + filter (reduced, not measured): {time.time()-t:.0f} s; pool file {n} rows", flush=True)
    res = []
    for size in a.sizes:
        out = work/f'run-{size}'
        if (out/'result.json').exists() and not a.force:
            res.append(json.loads((out/'result.json').read_text())); print('kept:', res[-1], flush=True); continue
        shutil.rmtree(out, ignore_errors=True); out.mkdir()
        for f in ('candidates.json', 'features.json'): shutil.copy(base/f, out/f)
        shutil.copytree(base/'recall', out/'recall')
        r = subprocess.run([sys.executable, __file__, '--child', '--pool', str(pool), '--probe', str(probe), '--n', str(size),
                            '--run-out', str(out), '--frs-rows', str(a.frs_rows)], capture_output=True, text=True, env=env)
        if r.returncode: print(r.stdout[-2000:], r.stderr[-4000:]); raise SystemExit(r.returncode)
        res.append(json.loads(r.stdout.strip().splitlines()[-1])); print(res[-1], flush=True)
    rate = lambda r: (r['n']/r['select_s'], r['frs_n']/r['frs_s'])
    print(f"\n{'rows':>6} {'selection ex/s':>15} {'FRS ex/s (rows)':>16} {'ratio':>6} {'peak RSS MiB':>13}")
    for r in res:
        s, f = rate(r)
        print(f"{r['n']:>6} {s:>15.2f} {f:>9.2f} {'(' + str(r['frs_n']) + ')':>6} {s/f:>6.3f} {r['rss_mib']:>13.0f}")
    lo, hi = res[0], res[-1]
    print(f"goal selection/FRS >= 0.90 at {hi['n']} rows: {rate(hi)[0]/rate(hi)[1]:.3f}; "
          f"goal RSS({hi['n']})/RSS({lo['n']}) <= 1.10: {hi['rss_mib']/lo['rss_mib']:.2f}; F* = {hi['n_fstar']} features")

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--data-dir', default='../shared/data'); p.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000])
    p.add_argument('--out', default='runs/bench-own'); p.add_argument('--child', action='store_true')
    p.add_argument('--frs-rows', type=int, default=10**9, help='time the FRS on a seeded sample of this many pool rows')
    p.add_argument('--force', action='store_true', help='measure every size again')
    p.add_argument('--pool'); p.add_argument('--probe'); p.add_argument('--n', type=int); p.add_argument('--run-out')
    a = p.parse_args()
    if a.child: a.out = a.run_out; child(a)
    else: main_bench(a)
