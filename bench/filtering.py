"""Δ_j for N candidates on M dev examples: the cached layer-L residual + the blocks above L (igds.intervene), against a
naive full forward per candidate with the amplification hook, measured side by side (interleaved) in one run.

    python bench/filtering.py --model smollm2-135m --candidates 16 --examples 16 [--sae FOLDER] [--data-dir DIR]

Prints the time of each path and their speed ratio; the limit measured in the same run (time of a full forward ÷ time
of the blocks above L plus the head, on the same batches), and the ratio as a share of that limit (goal ≥ 0.9); and the
largest absolute difference between the two Δ vectors (should be ~0). The cached path's one-off cost (the forward up to
L and the SAE encoding of the dev set) is included in its time.
"""
import argparse, statistics, time
from pathlib import Path
import numpy as np
import torch
from igds.config import FilterConfig, TaskConfig
from igds.models import load_model, get_spec, logits_from_resid
from igds.tasks import make_splits, get_task, response_nll
from igds import intervene as iv

def load_sae(a, d_model, layer):
    "The SAE of --sae, else the committed one in data/saes/, else a random one of the right shape (said so)."
    from sae_lens import SAE
    from igds.sae import random_sae
    path = Path(a.sae) if a.sae else Path(__file__).resolve().parent.parent/'data'/'saes'/f'{a.model}-L{layer}'
    if (path/'cfg.json').exists(): return SAE.load_from_disk(str(path), dtype='float32').eval(), f'{path}'
    return random_sae(d_model, 8*d_model, seed=0, hook=f'model.layers.{layer}'), f'RANDOM JumpReLU SAE {d_model}x{8*d_model} (no trained SAE found)'

def clock(fn):
    t0 = time.perf_counter(); r = fn(); return r, time.perf_counter() - t0

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='smollm2-135m'); p.add_argument('--layer', type=int, default=None)
    p.add_argument('--candidates', type=int, default=16); p.add_argument('--examples', type=int, default=16)
    p.add_argument('--batch-size', type=int, default=8); p.add_argument('--max-length', type=int, default=512)
    p.add_argument('--alpha', type=float, default=4.0); p.add_argument('--limit-repeats', type=int, default=3)
    p.add_argument('--sae', default=None); p.add_argument('--data-dir', default=None)
    a = p.parse_args()
    model, tok = load_model(a.model)
    L = a.layer if a.layer is not None else get_spec(a.model).layer
    sae, sae_desc = load_sae(a, model.config.hidden_size, L)
    dev = make_splits(TaskConfig(name='math', data_dir=a.data_dir, dev_select_size=a.examples, dev_check_size=0,
                                 probe_size=0, pool_size=0, test_size=1))['dev_select']
    cfg = FilterConfig(alpha=a.alpha, batch_size=a.batch_size)
    print(f'{a.model}, L = {L} of {len(model.model.layers)}, SAE: {sae_desc}; torch threads {torch.get_num_threads()}')

    # cached path, one-off part: residual after L and one SAE encoding (as DevCache.add_acts does; all features, to pick candidates)
    with torch.no_grad():
        cache, t_cache = clock(lambda: iv.DevCache(model, tok, dev, L, a.batch_size, a.max_length, progress=False))
        allacts, t_enc = clock(lambda: [iv.feature_acts(sae, b['resid'], range(sae.cfg.d_sae)) for b in cache.batches])
    fire = sum(((x > 0) & b['keep'][..., None].bool()).sum((0, 1)) for x, b in zip(allacts, cache.batches))
    feats = fire.argsort(descending=True, stable=True)[:a.candidates].tolist()  # features that fire, so every edit bites
    for x, b in zip(allacts, cache.batches): b['acts'] = x[..., feats]
    cache.features = feats; del allacts
    n_tok = sum(int(b['attention_mask'].sum()) for b in cache.batches)
    print(f'{a.candidates} candidates x {a.examples} dev examples ({n_tok} tokens, batch {a.batch_size}); alpha {a.alpha}')

    naive_ll = lambda: -response_nll(model, tok, dev, a.batch_size, a.max_length, progress=False)
    base_c, t_c = clock(lambda: iv.loglik(model, cache))
    base_n, t_n = clock(naive_ll)
    edits = iv._edits(sae, feats, cfg, None, None)
    dc, dn = {}, {}
    for j in feats:  # interleaved, so that load from other processes hits both paths alike
        ll, t = clock(lambda: iv.loglik(model, cache, edits[j], [j])); t_c += t; dc[j] = float(np.nanmean(ll - base_c))
        with iv.amplify(model, tok, L, edits[j]): ll, t = clock(naive_ll)
        t_n += t; dn[j] = float(np.nanmean(ll - base_n))
    t_cached = t_cache + t_enc + t_c

    # the limit: a full forward vs the blocks above L plus the head, on the same batches, interleaved
    full, above = [], []
    with torch.no_grad():
        for _ in range(a.limit_repeats):
            for b in cache.batches:
                _, t = clock(lambda: model(input_ids=b['input_ids'], attention_mask=b['attention_mask'], use_cache=False).logits); full.append(t)
                _, t = clock(lambda: logits_from_resid(model, b['resid'], b['input_ids'], b['attention_mask'], L)); above.append(t)
    limit = sum(full)/sum(above)
    ratio = t_n/t_cached
    diff = max(abs(dc[j] - dn[j]) for j in feats)
    print(f'naive  (full forward per candidate + hook): {t_n:8.2f} s')
    print(f'cached (once to L: {t_cache:.2f} s + encode {t_enc:.2f} s; above L per candidate: {t_c:.2f} s): {t_cached:8.2f} s')
    print(f'speed ratio naive/cached            = {ratio:.3f}')
    print(f'limit full/above-L (same run)       = {limit:.3f}   (full {sum(full):.2f} s, above L + head {sum(above):.2f} s, '
          f'{a.limit_repeats} x {len(cache.batches)} batches)')
    print(f'ratio / limit                       = {ratio/limit:.3f}   (goal >= 0.9)')
    print(f'max |Δ_cached - Δ_naive|            = {diff:.3g}   (Δ range {min(dc.values()):+.4f} .. {max(dc.values()):+.4f})')

if __name__ == '__main__': main()
