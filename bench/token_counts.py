"""Peak memory of `token_counts` (the over-long check of the selection stage) on a large own-data pool: the whole pool
tokenized at once against the default chunks, each in a fresh subprocess, side by side in one run.

    python bench/token_counts.py --data-dir /work/shared/data --rows 10000

The pool is DialogSum's training split as Alpaca rows (as bench/own_data.py writes it), read with `read_pool`; only the
SmolLM2 tokenizer is loaded. Each child reports its peak RSS (VmHWM) after reading the pool and after counting, and the
seconds the count took; both children must return the same counts.
"""
import argparse, hashlib, json, subprocess, sys, time
from pathlib import Path
from own_data import vm, write_alpaca  # bench/own_data.py, beside this file

def child(a):
    from igds.owndata import read_pool, token_counts
    from igds.models import load_tokenizer
    tok = load_tokenizer('smollm2-135m'); pool = read_pool(a.pool)
    before = vm('VmHWM'); t = time.perf_counter()
    n = token_counts(pool, tok, chunk=a.chunk or len(pool))
    print(json.dumps(dict(chunk=a.chunk or len(pool), rows=len(pool), seconds=time.perf_counter() - t, rss_read=before,
                          rss_peak=vm('VmHWM'), counts=hashlib.sha256(n.tobytes()).hexdigest()[:16])))

def main(a):
    pool = Path(a.out)/f'dialogsum_alpaca_{a.rows}.jsonl'; pool.parent.mkdir(parents=True, exist_ok=True)
    write_alpaca(Path(a.data_dir)/'dialogsum/dialogsum.train.jsonl', pool, a.rows)
    res = []
    for chunk in (0, 1024):  # 0: the whole pool at once
        r = subprocess.run([sys.executable, __file__, '--child', '--pool', str(pool), '--chunk', str(chunk)],
                           capture_output=True, text=True, check=True)
        res.append(json.loads(r.stdout.strip().splitlines()[-1])); print(res[-1], flush=True)
    assert res[0]['counts'] == res[1]['counts'], 'chunked counts differ'
    print(f"\n{'chunk':>6} {'rows':>6} {'seconds':>8} {'RSS after read MiB':>19} {'peak RSS MiB':>13} {'growth MiB':>11}")
    for r in res:
        print(f"{r['chunk']:>6} {r['rows']:>6} {r['seconds']:>8.1f} {r['rss_read']:>19.0f} {r['rss_peak']:>13.0f} "
              f"{r['rss_peak'] - r['rss_read']:>11.0f}")

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--data-dir', default='../shared/data'); p.add_argument('--rows', type=int, default=10000)
    p.add_argument('--out', default='runs/bench-token-counts'); p.add_argument('--child', action='store_true')
    p.add_argument('--pool'); p.add_argument('--chunk', type=int, default=1024)
    a = p.parse_args()
    child(a) if a.child else main(a)
