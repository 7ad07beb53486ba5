"""Forward up to layer L vs the full forward on the same batch, measured side by side in one run.

    python bench/forward.py --model smollm2-135m --batch 8 --seq 256 --repeats 5

Prints tokens/s of each and their ratio (the speed-up of stopping at L, with no head and no blocks above L).
"""
import argparse, statistics, time
import torch
from igds.models import load_model, resid_at, get_spec
from igds.tasks import get_task, encode

def timed(fn, repeats):
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='smollm2-135m'); p.add_argument('--layer', type=int, default=None)
    p.add_argument('--batch', type=int, default=8); p.add_argument('--seq', type=int, default=256)
    p.add_argument('--repeats', type=int, default=5); p.add_argument('--data-dir', default=None)
    a = p.parse_args()
    model, tok = load_model(a.model)
    L = a.layer if a.layer is not None else get_spec(a.model).layer
    # a real batch: GSM8K training examples, concatenated and cut to batch × seq tokens
    ids = [t for ex in get_task('math').load('train', data_dir=a.data_dir).select(range(200)) for t in encode(tok, ex)['input_ids']]
    x = torch.tensor(ids[:a.batch*a.seq]).view(a.batch, a.seq); mask = torch.ones_like(x)
    with torch.no_grad():
        full = timed(lambda: model(input_ids=x, attention_mask=mask, use_cache=False).logits, a.repeats)
        upto = timed(lambda: resid_at(model, x, mask, layer=L), a.repeats)
    n = x.numel()
    print(f'{a.model}: batch {a.batch} x {a.seq} tokens, L = {L} of {len(model.model.layers)}, torch threads {torch.get_num_threads()}')
    print(f'full forward      {full:7.3f} s  {n/full:8.0f} tok/s')
    print(f'stopped after L   {upto:7.3f} s  {n/upto:8.0f} tok/s')
    print(f'ratio (full / stopped) = {full/upto:.2f}x')

if __name__ == '__main__': main()
