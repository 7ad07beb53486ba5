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
    v1 = FilterConfig(alpha=1.0, keep_rule='positive')
    with pytest.raises(iv.NoFeatureError, match=r'no candidate has Δ > τ=0.0 \(4 candidates.*Try: a larger --alpha.*--metric task'):
        iv.filter_features(tm, tk, sae, dev, [1, 2, 3, 4], L, v1, progress=False)  # α = 1: every Δ is 0
    with pytest.raises(iv.NoFeatureError, match=r"Δ > τ=0.0 and Δ > the null's 0.95 quantile 0 and Δ > 1.645·SE \(4"):
        iv.filter_features(tm, tk, sae, dev, [1, 2, 3, 4], L, FilterConfig(alpha=1.0, n_null=4), progress=False)
    with pytest.raises(iv.NoFeatureError, match='best: feature 7'):
        iv.keep_features({3: -0.2, 7: -0.1}, v1)
    with pytest.raises(iv.NoFeatureError, match='0 candidates'):
        iv.keep_features({}, v1)

def test_keep_rule_threshold_and_cap():
    d = {i: v for i, v in enumerate([0.3, -0.1, 0.05, 0.2, 0.0, 0.4])}
    v1 = FilterConfig(keep_rule='positive')
    assert iv.keep_features(d, v1) == [5, 0, 3, 2]
    assert iv.keep_features(d, v1.replace(tau=0.1, max_features=2)) == [5, 0]

def test_probe_smaller_than_asked():
    with pytest.raises(ValueError, match=r'the probe set has 300 examples, fewer than the sizes \[512\]'):
        iv.probe_splits(300)
    with pytest.raises(ValueError, match='fewer than the sizes'):
        iv.stability(lambda idx: [], lambda c, rng=None: [], 100, sizes=(64, 128), progress=False)
    sp = iv.probe_splits(512)
    assert not set(sp['half A']) & set(sp['half B']) and len(sp['half A']) == len(sp['half B']) == 256
    assert set(sp['n=64']) <= set(sp['n=128']) <= set(sp['n=256']) <= set(sp['n=512'])

def test_stability_splits_are_distinct_sets():
    for n, sizes in ((512, (64, 128, 256, 512)), (128, (64, 128)), (40, (10, 20, 40))):
        sp = iv.probe_splits(n, sizes)
        assert len({tuple(v) for v in sp.values()}) == len(sp), n  # half A used to be n=256 at n = 512
        assert {f'n={s}' for s in sizes} <= set(sp)  # and no size was left out

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
    cfg = FilterConfig(batch_size=2, max_features=3, alphas=(1.0, 4.0), classes='all', keep_rule='positive')  # about caching
    cands = [{'feature': j, 'freq_task': 0.5} for j in range(0, 256, 32)]  # recall's records use 'feature'
    r1 = iv.filter_features(tm, tk, sae, dev, cands, L, cfg, dev_check=chk, progress=False)
    r2 = iv.filter_features(tm, tk, sae, dev, cands, L, cfg, dev_check=chk, progress=False)
    for k in ('features', 'candidates', 'alpha_sweep', 'check'): assert r1[k] == r2[k]
    assert [c['id'] for c in r1['candidates']] == list(range(0, 256, 32)) and r1['candidates'][0]['freq_task'] == 0.5
    top = r1['features'][0]
    assert r1['alpha_sweep']['delta'][str(top['id'])][1] == top['delta']  # the sweep at α = 4 is the filter's Δ
    fresh = iv.alpha_sweep(tm, sae, iv.DevCache(tm, tk, dev, L, 2, progress=False, classes=cfg.classes), [top['id']], cfg,
                          progress=False)
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
            '--dev-check', '2', '--max-features', '3', '--keep-rule', 'positive', '--no-sweep', '--stability',
            '--stability-sizes', '4', '8']
    assert main(args) == 0, capsys.readouterr().err  # candidates.json found in the run folder; layer read from it
    st = load_json(next(tmp_path.glob('tiny-random/math/filter-*/stability.json')))
    assert set(st['features']) == {'half A', 'half B', 'n=4', 'n=8'} and st['splits']['n=8'] == 8
    row = [r for r in st['features_table'] if r['a'] == 'half A' and r['b'] == 'half B'][0]
    assert row['jaccard'] == iv.jaccard(st['features']['half A'], st['features']['half B'])
    assert 'F* Jaccard, probe half A vs half B' in capsys.readouterr().out
    assert main(args[:-2] + ['64']) == 1 and 'fewer than the sizes [64]' in capsys.readouterr().err

# --- the noise-aware keep rule ----------------------------------------------------------------------------------------

def test_se_is_the_paired_standard_error_by_hand(setup):
    d = np.array([0.4, -0.2, np.nan, 0.1, 0.3])
    s = iv.delta_stats({5: d})[5]
    x = [0.4, -0.2, 0.1, 0.3]; m = sum(x)/4
    assert s['n'] == 4 and s['delta'] == pytest.approx(m, abs=1e-15)
    assert s['se'] == pytest.approx((sum((v - m)**2 for v in x)/3)**0.5/2, rel=1e-12)
    assert np.isnan(iv.delta_stats({1: np.array([0.2, np.nan])})[1]['se'])  # one example: no SE
    tk, tm, sae, dev, _ = setup
    cache = iv.DevCache(tm, tk, dev, L, batch_size=2, progress=False).add_acts(sae, [17, 40])
    base = iv.loglik(tm, cache)
    ed = iv.feature_edit(sae, [17], FilterConfig())
    old = float(np.nanmean(iv.loglik(tm, cache, ed, [17]) - base))  # the Δ_j of the version before per-example values
    vec = iv.delta_vectors(tm, sae, cache, [17, 40], progress=False)
    assert iv.deltas(tm, sae, cache, [17, 40], progress=False)[17] == old == iv.delta_stats(vec)[17]['delta']
    dd = vec[17][np.isfinite(vec[17])]
    assert iv.delta_stats(vec)[17]['se'] == pytest.approx(dd.std(ddof=1)/np.sqrt(len(dd)), rel=1e-12) and len(dd) >= 2

def test_noisy_feature_is_not_kept_a_clear_one_is():
    rng = np.random.default_rng(0)
    vec = {1: 0.05 + 0.01*rng.standard_normal(64), 2: 0.08 + 0.8*rng.standard_normal(64)}  # clear; higher mean, huge SE
    vec[2] += 0.08 - vec[2].mean()
    st = iv.delta_stats(vec)
    delta, se = {j: s['delta'] for j, s in st.items()}, {j: s['se'] for j, s in st.items()}
    assert delta[2] > delta[1] > 0
    assert iv.keep_features(delta, FilterConfig(), se, null_q=0.0) == [1]
    assert iv.keep_features(delta, FilterConfig(keep_rule='z'), se) == [1]
    assert iv.keep_features(delta, FilterConfig(keep_rule='positive')) == [2, 1]  # v1 keeps both, the noisy one first

def test_feature_below_the_null_quantile_is_rejected():
    null = np.linspace(-0.01, 0.03, 32)
    q = iv.null_threshold(null)
    assert q == pytest.approx(np.quantile(null, 0.95)) and 0.02 < q < 0.03
    delta, se = {1: 0.04, 2: q - 1e-4}, {1: 0.001, 2: 0.001}  # both far above z·SE; 2 is inside the null
    assert iv.keep_flags({j: dict(delta=delta[j], se=se[j]) for j in delta}, FilterConfig(), q)[2] == \
        dict(positive=True, null=False, z=True)
    assert iv.keep_features(delta, FilterConfig(), se, q) == [1]
    assert iv.keep_features(delta, FilterConfig(keep_rule='null'), null_q=q) == [1]
    assert iv.keep_features(delta, FilterConfig(keep_rule='z'), se) == [1, 2]
    with pytest.raises(iv.NoFeatureError, match=r"quantile 0.02\d+ and Δ > 1.645·SE \(1 candidates; best: feature 2"):
        iv.keep_features({2: delta[2]}, FilterConfig(), {2: se[2]}, q)

def test_null_features_are_live_and_never_candidates(setup):
    tk, tm, sae, dev, _ = setup
    cands = list(range(0, 64, 4))
    pool = list(range(0, 200, 2))  # live features, as recall's statistics give them; some are candidates
    cfg = FilterConfig(batch_size=2, n_null=12, tau=-10.0, z=0.0, null_quantile=0.05, max_features=4)
    r = iv.filter_features(tm, tk, sae, dev, cands, L, cfg, null_pool=pool, sweep=False, progress=False)
    n = r['null']
    assert n['n_null'] == len(n['ids']) == 12 and n['pool'] == len(pool) and n['pool_from'] == 'null_pool'
    assert set(n['ids']) <= set(pool) - set(cands)
    assert n['ids'] == iv.draw_null(pool, cands, 12)  # the seeded draw
    assert n['quantile'] == iv.null_threshold(n['delta'], 0.05)
    for c in r['candidates']:
        assert c['null_q'] == n['quantile']
        assert c['z'] == pytest.approx(c['delta']/c['se']) if c['se'] else c['z'] is None  # a silent feature: SE 0
        assert c['passed']['null'] == (c['delta'] > n['quantile']) and c['kept'] <= c['passed']['null']
    r2 = iv.filter_features(tm, tk, sae, dev, cands, L, cfg, sweep=False, progress=False)  # no pool: live on dev_select
    live = iv.dev_live(sae, iv.DevCache(tm, tk, dev, L, 2, progress=False))
    assert set(r2['null']['ids']) <= set(live) - set(cands) and r2['null']['pool_from'] == 'dev_select'
    with pytest.raises(ValueError, match='no live non-candidate feature'):
        iv.draw_null(cands, cands, 4)

def test_resume_with_a_torn_partial_file(setup, tmp_path):
    tk, tm, sae, dev, chk = setup
    cands = list(range(0, 256, 32))
    cfg = FilterConfig(batch_size=2, n_null=6, tau=-10.0, z=0.0, null_quantile=0.05, max_features=3, alphas=(1.0, 4.0))
    sett = iv.filter_settings(cfg, ModelConfig('tiny-random'), TaskConfig(), 'random', cands, L, null_pool=range(256))
    splits = dict(dev_select=dev, dev_check=chk)
    full, p = iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path/'a', cfg, progress=False, null_pool=range(256))
    saved = (p.parent/iv.DELTAS).read_text().splitlines()
    null = full['null']['ids']
    assert [json.loads(l)['id'] for l in saved] == cands + null
    # a killed run: two candidates and two null features done, an old line (Δ only), and a torn last line
    part = tmp_path/'b'/p.relative_to(tmp_path/'a').parent/'deltas.partial.jsonl'
    part.parent.mkdir(parents=True)
    part.write_text('\n'.join(saved[:2] + [json.dumps(dict(id=cands[2], delta=0.5))] + saved[len(cands):len(cands)+2])
                    + '\n' + saved[3][:25])
    measured = []
    real = iv.delta_vectors
    def spy(model, sae_, cache, features, *a, **k):
        done = iv.read_deltas(k.get('resume'))
        measured.extend(j for j in features if j not in done)
        return real(model, sae_, cache, features, *a, **k)
    iv.delta_vectors = spy
    try: res, p2 = iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path/'b', cfg, progress=False,
                                 null_pool=range(256))
    finally: iv.delta_vectors = real
    assert sorted(measured) == sorted(cands[2:] + null[2:])  # the old line's and the torn line's features again
    for k in ('features', 'candidates', 'null', 'check'): assert res[k] == full[k]
    assert not part.exists() and (p2.parent/iv.DELTAS).read_text() == (p.parent/iv.DELTAS).read_text()

def test_killed_alpha_sweep_resumes(setup, tmp_path):
    "A kill in the α sweep keeps the sweep's Δ measured so far: the rerun measures only the rest."
    import inspect
    tk, tm, sae, dev, chk = setup
    cands = list(range(0, 256, 32))
    cfg = FilterConfig(batch_size=2, n_null=6, tau=-10.0, keep_rule='null', null_quantile=0.05, max_features=3,
                       alphas=(0.5, 1.0, 2.0, 4.0))
    sett = iv.filter_settings(cfg, ModelConfig('tiny-random'), TaskConfig(), 'random', cands, L, null_pool=range(256))
    splits, kw = dict(dev_select=dev, dev_check=chk), dict(progress=False, null_pool=range(256))
    full, p = iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path/'a', cfg, **kw)
    kept = [f['id'] for f in full['features']]
    part = tmp_path/'b'/p.relative_to(tmp_path/'a').parent/'deltas.partial.jsonl'
    real_ll, real_dv = iv.loglik, iv.delta_vectors
    def killing(*a, **k):  # dies once the sweep at α = 2 has measured its first feature
        f = iv.sweep_partial(part, 2.0)
        if f.exists() and f.read_text().count('\n') >= 1: raise KeyboardInterrupt
        return real_ll(*a, **k)
    iv.loglik = killing
    try:
        with pytest.raises(KeyboardInterrupt): iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path/'b', cfg, **kw)
    finally: iv.loglik = real_ll
    assert not (part.parent/'features.json').exists() and iv.sweep_partial(part, 0.5).exists()
    measured = []
    def spy(*a, **k):
        b = inspect.signature(real_dv).bind(*a, **k); b.apply_defaults(); g = b.arguments
        done = iv.read_deltas(g['resume'])
        measured.append((g['alpha'], [j for j in g['features'] if j not in done]))
        return real_dv(*a, **k)
    iv.delta_vectors = spy
    try: res, p2 = iv.run_filter(tm, tk, sae, splits, cands, sett, tmp_path/'b', cfg, **kw)
    finally: iv.delta_vectors = real_dv
    assert cfg.alpha == 4.0  # Δ at α = 4 is the filter's own: the sweep reuses it, as it skips α = 1
    assert measured == [(None, []), (0.5, []), (2.0, kept[1:])]  # only what the kill left unmeasured
    for k in ('features', 'candidates', 'null', 'alpha_sweep', 'check'): assert res[k] == full[k], k
    assert sorted(q.name for q in p2.parent.iterdir()) == ['deltas.jsonl', 'features.json']  # partial files removed

def test_stability_resamples_delta_per_split():
    g = np.random.default_rng(3)
    vec = {j: 0.04 + 0.1*g.standard_normal(24) for j in range(8)}
    vec |= {100 + j: 0.02*g.standard_normal(24) for j in range(32)}  # the null
    same = lambda idx: list(range(8))  # recall is the same on every split: only Δ's noise can change F*
    cfg = FilterConfig(max_features=4)
    run = lambda resample, seed=0: iv.stability(same, iv.memo_filter(None, cfg, vec, range(100, 132), resample), 128,
                                               (32, 64, 128), seed, progress=False)
    fixed, boot = run('none'), run('bootstrap')
    assert len({tuple(f) for f in fixed['features'].values()}) == 1       # one Δ per feature: every split agrees
    assert len({tuple(f) for f in boot['features'].values()}) > 1         # a resample per split: F* moves
    assert boot['features'] == run('bootstrap')['features'] != run('bootstrap', seed=1)['features']  # seeded
    assert boot['delta_resample']['method'] == 'bootstrap' and fixed['delta_resample'] == dict(method='none')
    nul = []
    f = iv.memo_filter(lambda ids: nul.extend(ids) or {j: np.zeros(24) for j in ids}, cfg, vec, [3, 100, 101])
    f([0, 1, 3])  # a candidate of this split is left out of its null, and nothing known is measured again
    assert nul == []

def test_cli_keep_rule_options_default_to_the_config():
    import argparse
    from igds.cli import main
    sub = argparse.ArgumentParser().add_subparsers()
    from igds.filtercli import register_cli
    register_cli(sub)
    args = sub.choices['filter'].parse_args(['--model', 'tiny-random'])
    fc = FilterConfig()
    got = (args.keep_rule, args.n_null, args.null_quantile, args.z)
    assert got == (fc.keep_rule, fc.n_null, fc.null_quantile, fc.z)
    assert sub.choices['filter'].parse_args(['--keep-rule', 'positive']).keep_rule == 'positive'

def test_v1_rule_keeps_its_run_folder():
    v1 = FilterConfig(keep_rule='positive')
    s = iv.filter_settings(v1, ModelConfig('tiny-random'), TaskConfig(), 'random', [1, 2], L)
    old = {k: v for k, v in v1.to_dict().items() if k not in iv.KEEP_FIELDS}  # FilterConfig's fields before the null
    assert s['filter'] == old and 'null_pool' not in s
    sett = lambda **kw: iv.filter_settings(FilterConfig(), ModelConfig('tiny-random'), TaskConfig(), 'x', [1, 2], L, **kw)
    new = sett(null_pool=[5, 3])
    assert new['filter']['keep_rule'] == 'both'
    assert new['null_pool'] not in (sett()['null_pool'], sett(null_pool=[5])['null_pool'])  # the pool is in the hash
    assert sett(null_pool=[3, 5]) == new  # the pool's order does not matter

def test_filter_folder_is_keyed_by_candidate_ids_not_recall_floats():
    "Recall's statistics differ in their last bits between machines: a resumed run must find the same filter folder."
    rec = lambda eps: [dict(feature=j, freq_task=1.0, freq_generic=0.0, lift=513.0 + eps, probe_max=12.4372844 + eps)
                       for j in (647, 491, 3395)]
    sett = lambda recs, cfg=FilterConfig(): iv.filter_settings(cfg, ModelConfig('tiny-random'), TaskConfig(), 'x',
                                                               recs, L, null_pool=[1, 2, 3])
    assert sett(rec(0.0)) == sett(rec(1e-6)) == sett([647, 491, 3395])  # scale mode: Δ depends on the ids alone
    assert sett(rec(0.0)) != sett(list(reversed(rec(0.0)))) != sett(rec(0.0)[:2])  # order and set are in the key
    clamp = FilterConfig(mode='clamp')  # clamp sets a_j to c·max: the maximum is in the key, to 6 significant digits
    assert sett(rec(0.0), clamp) == sett(rec(1e-6), clamp) != sett(rec(1e-3), clamp)
