"Interventional filtering: bad input, determinism, and the cached path against the naive one (tiny model, random SAE)."
import json
from pathlib import Path
import numpy as np
import pytest
import torch
from datasets import Dataset
from igds.config import FilterConfig, ModelConfig, TaskConfig, save_json, load_json
from igds.models import generate
from igds.tasks import get_task, format_prompt
from igds import intervene as iv

L = 2

@pytest.fixture(scope='module')
def setup(tiny, sae):
    tm, tk = tiny
    rows = get_task('math').load('train').select(range(12))
    short = lambda ex: ex['content'][:90 - len(ex['instruction']) + len(ex['content'])]  # instruction cut to 90 characters
    ds = Dataset.from_list([dict(ex, instruction=ex['instruction'][:90], content=short(ex), response=ex['response'][:50])
                            for ex in rows])
    return tk, tm, sae, ds.select(range(5)), ds.select(range(5, 9))

def test_no_candidate_passes_stops_clearly(setup):
    tk, tm, sae, dev, _ = setup
    with pytest.raises(iv.NoFeatureError, match=r'no candidate has Δ > τ=0.0 \(4 candidates.*Try: a larger --alpha.*--metric task'):
        iv.filter_features(tm, tk, sae, dev, [1, 2, 3, 4], L, FilterConfig(alpha=1.0), progress=False)  # α = 1: every Δ is 0
    with pytest.raises(iv.NoFeatureError, match='best: feature 7'):
        iv.keep_features({3: -0.2, 7: -0.1})
    with pytest.raises(iv.NoFeatureError, match='0 candidates'):
        iv.keep_features({})

def test_keep_rule_threshold_and_cap():
    d = {i: v for i, v in enumerate([0.3, -0.1, 0.05, 0.2, 0.0, 0.4])}
    assert iv.keep_features(d) == [5, 0, 3, 2]
    assert iv.keep_features(d, tau=0.1, k=2) == [5, 0]

def test_probe_smaller_than_asked():
    with pytest.raises(ValueError, match=r'the probe set has 300 examples, fewer than the sizes \[512\]'):
        iv.probe_splits(300)
    with pytest.raises(ValueError, match='fewer than the sizes'):
        iv.stability(lambda idx: [], lambda c: [], 100, sizes=(64, 128), progress=False)
    sp = iv.probe_splits(512)
    assert not set(sp['half A']) & set(sp['half B']) and len(sp['half A']) == len(sp['half B']) == 256
    assert set(sp['n=64']) <= set(sp['n=128']) <= set(sp['n=512'])

@pytest.mark.parametrize('mode', ['scale', 'clamp', 'add'])
def test_cached_equals_naive(setup, mode):
    tk, tm, sae, dev, _ = setup
    feats = [0, 17, 40, 99, 200]
    cache = iv.DevCache(tm, tk, dev, L, batch_size=2, progress=False, classes='all')  # the hook edits every kept position
    mx = iv.feature_max(tm, tk, sae, dev, L, feats, progress=False)
    cfg = FilterConfig(mode=mode, alpha=6.0, beta=2.0, batch_size=2)
    c = iv.deltas(tm, sae, cache, feats, cfg, max_probe=mx, progress=False)
    n = iv.deltas_naive(tm, tk, sae, dev, L, feats, cfg, max_probe=mx, median_norm=cache.median_norm(), progress=False)
    c, n = np.array([c[j] for j in feats]), np.array([n[j] for j in feats])
    assert np.abs(c).max() > 1e-4            # the edit does something ...
    np.testing.assert_allclose(c, n, atol=1e-5)  # ... and both paths agree

def test_deterministic_and_skipped(setup, tmp_path):
    tk, tm, sae, dev, chk = setup
    cfg = FilterConfig(batch_size=2, max_features=3, alphas=(1.0, 4.0))
    cands = [{'feature': j, 'freq_task': 0.5} for j in range(0, 256, 32)]  # recall's records use 'feature'
    r1 = iv.filter_features(tm, tk, sae, dev, cands, L, cfg, dev_check=chk, progress=False)
    r2 = iv.filter_features(tm, tk, sae, dev, cands, L, cfg, dev_check=chk, progress=False)
    for k in ('features', 'candidates', 'alpha_sweep', 'check'): assert r1[k] == r2[k]
    assert [c['id'] for c in r1['candidates']] == list(range(0, 256, 32)) and r1['candidates'][0]['freq_task'] == 0.5
    top = r1['features'][0]
    assert r1['alpha_sweep']['delta'][str(top['id'])][1] == top['delta']  # the sweep at α = 4 is the filter's Δ
    fresh = iv.alpha_sweep(tm, sae, iv.DevCache(tm, tk, dev, L, 2, progress=False), [top['id']], cfg, progress=False)
    assert abs(fresh[top['id']][1] - top['delta']) < 1e-6 and fresh[top['id']][0] == 0.0
    sett = iv.filter_settings(cfg, ModelConfig('tiny-random'), TaskConfig(), 'random', cands, L)
    splits = dict(dev_select=dev, dev_check=chk)
    a, p = iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path, cfg, progress=False)
    t = p.stat().st_mtime_ns
    b, _ = iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path, cfg, progress=False)
    assert p.stat().st_mtime_ns == t and a == b             # same settings: read back, not redone
    c, _ = iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path, cfg, force=True, progress=False)
    assert p.stat().st_mtime_ns != t and c['features'] == a['features']
    cfg2 = cfg.replace(alpha=2.0)
    _, p2 = iv.run_filter(tm, tk, sae, splits, cands, {**sett, 'filter': cfg2.to_dict()}, tmp_path, cfg2, progress=False)
    assert p2 != p and load_json(p2)['settings']['filter']['alpha'] == 2.0  # other settings: another run folder

def test_amplify_in_generate_skips_excluded_positions(setup):
    tk, tm, sae, dev, _ = setup
    prompts = [format_prompt(tk, ex['instruction']) for ex in dev.select(range(2))]
    plain = generate(tm, tk, prompts, max_new_tokens=5, progress=False)
    seen = []
    def edit(h, keep): seen.append(keep.clone()); return h
    with iv.amplify(tm, tk, L, edit): same = generate(tm, tk, prompts, max_new_tokens=5, progress=False)
    assert same == plain and len(seen) >= 2
    enc = tk(sorted(prompts, key=len, reverse=True), return_tensors='pt', padding=True, add_special_tokens=False)
    special = torch.isin(enc.input_ids, torch.tensor(tk.all_special_ids))
    first = enc.attention_mask.argmax(1)
    assert not seen[0][special].any()                       # no special token or padding is edited
    assert not seen[0][torch.arange(2), first].any()        # nor the first real token (position 0)
    assert seen[0][~special].sum() == (~special).sum() - (~special[torch.arange(2), first]).sum()
    cfg = FilterConfig(mode='add', beta=50.0)
    with iv.amplify(tm, tk, L, iv.feature_edit(sae, [3], cfg, median_norm=1.0)):
        steered = generate(tm, tk, prompts, max_new_tokens=5, progress=False)
    assert steered != plain

def test_clamp_and_add_need_their_statistics(setup):
    tk, tm, sae, dev, _ = setup
    with pytest.raises(ValueError, match='needs each candidate.s probe maximum'):
        iv.filter_features(tm, tk, sae, dev, [1, 2], L, FilterConfig(mode='clamp'), progress=False)
    with pytest.raises(ValueError, match='median_norm'):
        iv.feature_edit(sae, [1], FilterConfig(mode='add'))

def test_cli_bad_sae_width_and_missing_candidates(setup, tmp_path, capsys, new_sae):
    from igds.cli import main
    new_sae(d_in=32, d_sae=128).save_model(tmp_path/'sae32')
    save_json({'candidates': [{'feature': 1}, {'feature': 2}]}, tmp_path/'c.json')
    base = ['filter', '--model', 'tiny-random', '--layer', '2', '--runs', str(tmp_path)]
    assert main(base + ['--sae', str(tmp_path/'sae32'), '--candidates', str(tmp_path/'c.json')]) == 1
    assert 'd_in=32' in capsys.readouterr().err
    assert main(base + ['--sae', str(tmp_path/'sae32')]) == 1
    assert 'run `igds recall' in capsys.readouterr().err

def test_stats_recall_matches_recall_on_the_full_probe(setup, tmp_path):
    pytest.importorskip('igds.recall'); pytest.importorskip('igds.activations')
    from igds.activations import collect_stats, load_stats, feature_freq
    from igds.recall import rank_candidates
    from igds.config import RecallConfig
    tk, tm, sae, dev, chk = setup
    probe = Dataset.from_list(list(dev) + list(chk))
    collect_stats(tm, tk, sae, L, probe, tmp_path/'stats-probe', batch_size=4, progress=False)
    collect_stats(tm, tk, sae, L, chk, tmp_path/'stats-generic', batch_size=4, progress=False)
    cfg = RecallConfig(n_candidates=20, generic_max_freq=1.0)
    fn = iv.stats_recall(tmp_path, cfg)
    rank = lambda sp, sg: [c['feature'] for c in rank_candidates(feature_freq(sp), feature_freq(sg), 20, 1.0, feature_freq(sg),
                                                                 strength=np.asarray(sp['sum'].sum(0)).ravel())]
    sg = load_stats(tmp_path/'stats-generic')
    full = rank(load_stats(tmp_path/'stats-probe'), sg)
    assert fn.n_probe == len(probe) and len(full) == 20 and fn(range(len(probe))) == full
    idx = [0, 2, 5, 7]  # a subset: the same as recall run on those examples alone
    collect_stats(tm, tk, sae, L, probe.select(idx), tmp_path/'sub', batch_size=4, progress=False)
    assert fn(idx) == rank(load_stats(tmp_path/'sub'), sg)

def test_cli_stability_from_recall_statistics(setup, tmp_path, capsys):
    pytest.importorskip('igds.recall'); pytest.importorskip('igds.activations')
    from igds.activations import collect_stats
    from igds.config import RecallConfig
    from igds.cli import main
    tk, tm, sae, dev, chk = setup
    rec = tmp_path/'tiny-random'/'math'/'recall-x'
    probe = Dataset.from_list(list(dev) + list(chk))
    collect_stats(tm, tk, sae, L, probe, rec/'stats-probe', batch_size=4, progress=False)
    collect_stats(tm, tk, sae, L, chk, rec/'stats-generic', batch_size=4, progress=False)
    rcfg = RecallConfig(n_candidates=6, generic_max_freq=1.0)
    cands = iv.stats_recall(rec, rcfg)(range(len(probe)))
    save_json(dict(candidates=[{'feature': j} for j in cands], layer=L, configs=dict(recall=rcfg.to_dict())), rec/'candidates.json')
    sae.save_model(tmp_path/'sae')
    args = ['filter', '--model', 'tiny-random', '--sae', str(tmp_path/'sae'), '--runs', str(tmp_path), '--dev-select', '3',
            '--dev-check', '2', '--max-features', '3', '--no-sweep', '--stability', '--stability-sizes', '4', '8']
    assert main(args) == 0, capsys.readouterr().err  # candidates.json found in the run folder; layer read from it
    st = load_json(next(tmp_path.glob('tiny-random/math/filter-*/stability.json')))
    assert set(st['features']) == {'half A', 'half B', 'n=4', 'n=8'} and st['splits']['n=8'] == 8
    row = [r for r in st['features_table'] if r['a'] == 'half A' and r['b'] == 'half B'][0]
    assert row['jaccard'] == iv.jaccard(st['features']['half A'], st['features']['half B'])
    assert 'F* Jaccard, probe half A vs half B' in capsys.readouterr().out
    assert main(args[:-2] + ['64']) == 1 and 'fewer than the sizes [64]' in capsys.readouterr().err
