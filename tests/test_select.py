"Resonant selection: bad input, determinism, the truncated and column-only FRS, the score cache, the CLI."
import json
from pathlib import Path
import numpy as np
import pytest
import torch
from datasets import Dataset
from igds.config import SelectConfig, save_json, load_json
from igds.models import decoder_layers
from igds.tasks import get_task, encode
from igds.select import (FRS, ScoreSelector, budget_count, check_pool, load_features, get_selector, explain,
                         explain_html, subset, score_pool)
from igds.baselines import Random, Full, ZIP
from igds.cli import main

F = [17, 91, 200]

@pytest.fixture(scope='module')
def pool():
    return get_task('math').load('train').select(range(12))

def frs(tiny, sae, feats=F, **kw):
    "An FRS; a sum over tokens unless `frs_reduce` says (the sums add up across classes, which the tests use)."
    return FRS(tiny[0], tiny[1], sae, feats, SelectConfig(**{'batch_size': 4, 'frs_reduce': 'sum', **kw}), layer=2, progress=False)

@pytest.mark.parametrize('budget,msg', [(0, 'must be > 0'), (-0.5, 'must be > 0'), (1.5, 'whole number'),
                                        (13, 'larger than the pool'), (float('nan'), 'must be > 0'), (0.01, 'keeps no example')])
def test_bad_budget(budget, msg, pool):
    with pytest.raises(ValueError, match=msg): Random(0).select(pool, budget)

def test_budget_count_and_share():
    assert budget_count(0.5, 1000) == 500 and budget_count(1.0, 9) == 9 and budget_count(7, 9) == 7

def test_empty_pool(tiny, sae):
    empty = Dataset.from_dict(dict(id=[], instruction=[], response=[]))
    for sel in (Random(0), Full(), ZIP(), frs(tiny, sae)):
        with pytest.raises(ValueError, match='pool is empty'): sel.select(empty, 0.5)
    with pytest.raises(ValueError, match='pool is empty'): Random(0).select([], 0.5)

def test_duplicate_ids(pool):
    dup = Dataset.from_dict(dict(id=['a', 'b', 'a', 'c', 'b'], instruction=['x']*5, response=['y']*5))
    with pytest.raises(ValueError, match=r"2 duplicate id\(s\): 'a', 'b'"): Random(0).select(dup, 2)

@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_nonfinite_scores_are_named(pool, bad):
    s = np.arange(len(pool), dtype=float); s[3] = bad; s[7] = bad
    ids = list(pool['id'])
    with pytest.raises(ValueError, match=f"2 example.*{ids[3]!r}, {ids[7]!r}"): Random(0).select(pool, 0.5, scores=s)

@pytest.mark.parametrize('method,kw', [('igds', {}), ('igds', dict(frs_reduce='mean', classes=('response',))), ('loss', {}),
                                       ('ifd', {}), ('longest', {})])
def test_cut_responses_rank_last(tiny, sae, pool, method, kw):
    "Examples whose response truncation cuts away (the prompt fills max_length) come after all others, in pool order."
    from igds.tasks import encode
    cut = [ex['id'] for ex in pool if 1 not in encode(tiny[1], ex, 256)['span']]
    assert 0 < len(cut) < len(pool)
    cfg = SelectConfig(method=method, batch_size=4, **kw)
    sel = get_selector(cfg, *tiny, sae, F, layer=2, max_length=256, progress=False)
    s = sel.score(pool)
    if method == 'igds' and not kw: assert pool['id'][int(np.argmax(s))] in cut  # the rule changes this selection
    ranked = sel.select(pool, 1.0, scores=s)
    assert ranked[len(pool) - len(cut):] == cut
    assert (sel.info['n_response_cut'], sel.info['response_cut']) == (len(cut), cut)
    assert set(sel.select(pool, len(pool) - len(cut), scores=s)) == set(pool['id']) - set(cut)

def test_no_cut_response_keeps_the_score_order(tiny, sae, pool):
    "With nothing cut away the rule changes nothing: the order is the scores', ties by pool order."
    f = FRS(tiny[0], tiny[1], sae, F, SelectConfig(batch_size=4), layer=2, max_length=2048, progress=False)
    s = f.score(pool)
    assert f.select(pool, 1.0, scores=s) == [pool['id'][i] for i in np.argsort(-s, kind='stable')]
    assert f.info['n_response_cut'] == 0 and 'response_cut' not in f.info

def test_features_from_another_model_or_layer(tmp_path, tiny, sae):
    p = tmp_path/'features.json'
    save_json(dict(features=[dict(id=j, delta=0.1) for j in F], settings=dict(model='smollm2-135m', layer=15)), p)
    with pytest.raises(ValueError, match="found on model 'smollm2-135m', not 'tiny-random'"): load_features(p, 'tiny-random', 15)
    with pytest.raises(ValueError, match='found at layer 15, not layer 2'): load_features(p, 'smollm2-135m', 2)
    with pytest.raises(ValueError, match='found at layer 15, not layer 2'): frs(tiny, sae, str(p))
    save_json(dict(features=[999]), p)
    with pytest.raises(ValueError, match='outside the SAE'): frs(tiny, sae, str(p))
    with pytest.raises(ValueError, match='F\\* is empty'): load_features(dict(features=[]))
    with pytest.raises(ValueError, match='duplicate feature ids'): load_features([3, 3])

def test_cli_refuses_features_of_another_model(tmp_path, sae, capsys):
    sae.save_model(tmp_path/'sae'); save_json(dict(features=F, settings=dict(model='smollm2-135m', layer=2)), tmp_path/'f.json')
    rc = main(['select', '--method', 'igds', '--model', 'tiny-random', '--layer', '2', '--features', str(tmp_path/'f.json'),
               '--sae', str(tmp_path/'sae'), '--pool-size', '8', '--runs', str(tmp_path)])
    assert rc == 1 and "found on model 'smollm2-135m'" in capsys.readouterr().err

def test_same_seed_same_ids(tiny, sae, pool):
    assert Random(3).select(pool, 0.5) == Random(3).select(pool, 0.5)
    assert Random(3).select(pool, 0.5) != Random(4).select(pool, 0.5)
    assert frs(tiny, sae).select(pool, 0.5) == frs(tiny, sae).select(pool, 0.5)
    assert ZIP().select(pool, 5) == ZIP().select(pool, 5)

def test_ties_follow_pool_order(pool):
    class Tie(ScoreSelector):
        def score(self, p): return np.zeros(len(p))
    assert Tie().select(pool, 4) == list(pool['id'][:4])

def test_frs_stops_at_layer_L(tiny, sae, pool):
    "No block above L and no LM head runs while scoring."
    model = tiny[0]; called = []
    hooks = [decoder_layers(model)[3].register_forward_hook(lambda *a: called.append('block 3')),
             model.get_output_embeddings().register_forward_hook(lambda *a: called.append('head'))]
    try: frs(tiny, sae).score(pool)
    finally: [h.remove() for h in hooks]
    assert called == []

def _frs_by_hand(model, tk, sae, pool, feats, layer=2)->np.ndarray:
    """Σ over counted tokens (kept, of the content and response classes) of Σ_{j∈F} a_j, one example at a time: sae-lens' full-width `encode` of the residual after
    block L (the model's own `hidden_states`), then the F columns."""
    out = []
    for ex in pool:
        e = encode(tk, ex, 512)
        with torch.no_grad():
            h = model(torch.tensor([e['input_ids']]), output_hidden_states=True).hidden_states[layer + 1][0]
            a = sae.encode(h)[:, feats]
        counted = [k and c > 0 for k, c in zip(e['keep'], e['cls'])]  # the default classes: content and response
        out.append(float((a*torch.tensor(counted)[:, None]).sum()))
    return np.array(out)

@pytest.mark.parametrize('arch', ['jumprelu', 'standard', 'topk'])
def test_frs_equals_full_encode_then_feature_columns(tiny, saes, pool, arch, monkeypatch):
    """The FRS of every architecture equals sae-lens' full-width encode, then F*'s columns, summed over the counted
    tokens; a JumpReLU/ReLU SAE is never encoded at full width while scoring, a TopK SAE is (its top k needs every latent)."""
    sae = saes[arch]; ref = _frs_by_hand(*tiny, sae, pool, F)
    assert (ref > 0).sum() >= len(pool)//2  # enough of F fires that the comparison means something
    calls, orig = [], type(sae).encode
    monkeypatch.setattr(type(sae), 'encode', lambda self, x: calls.append(1) or orig(self, x))
    np.testing.assert_allclose(frs(tiny, sae).score(pool), ref, rtol=1e-4, atol=1e-5)
    assert bool(calls) == (arch == 'topk')

def test_options_change_the_score_as_defined(tiny, sae, pool):
    st = frs(tiny, sae).feature_stats(pool); k = len(F)
    by = {c: frs(tiny, sae, classes=(c,)).score(pool) for c in ('template', 'content', 'response')}
    np.testing.assert_allclose(frs(tiny, sae, classes='all').score(pool), sum(by.values()), rtol=1e-6)  # float32 sums
    np.testing.assert_allclose(frs(tiny, sae).score(pool), by['content'] + by['response'], rtol=1e-6)  # the default
    assert (by['template'] > 0).any()  # the template is there to be left out
    default = FRS(tiny[0], tiny[1], sae, F, SelectConfig(batch_size=4), layer=2, progress=False).score(pool)
    n_cr = st[:, 1*(2*k+1)+k] + st[:, 2*(2*k+1)+k]  # content and response tokens
    np.testing.assert_allclose(default, (by['content'] + by['response'])/n_cr, rtol=1e-9)  # the default: their mean
    n_r = st[:, 2*(2*k+1)+k]  # the response block's token count
    np.testing.assert_allclose(frs(tiny, sae, classes=('response',), frs_reduce='mean').score(pool), by['response']/n_r, rtol=1e-9)
    with pytest.raises(ValueError, match="needs Δ_j"): frs(tiny, sae, frs_weight='delta').score(pool)
    with pytest.raises(ValueError, match='pass probe='): frs(tiny, sae, frs_norm='probe_max').score(pool)
    with pytest.raises(ValueError, match='pass probe='): frs(tiny, sae, frs_norm='probe_mean').score(pool)

def test_score_cache_makes_a_rerun_free(tiny, sae, pool, tmp_path, monkeypatch):
    a = FRS(tiny[0], tiny[1], sae, F, SelectConfig(batch_size=4), layer=2, cache_dir=tmp_path, progress=False)
    s1 = a.score(pool)
    monkeypatch.setattr(FRS, '_run', lambda *x: (_ for _ in ()).throw(AssertionError('recomputed')))
    b = FRS(tiny[0], tiny[1], sae, F, SelectConfig(batch_size=4, frs_reduce='mean'), layer=2, cache_dir=tmp_path, progress=False)
    s2 = FRS(tiny[0], tiny[1], sae, F, SelectConfig(batch_size=2), layer=2, cache_dir=tmp_path, progress=False).score(pool)
    np.testing.assert_array_equal(s1, s2); b.score(pool)  # another option, same cached stats
    with pytest.raises(AssertionError, match='recomputed'):  # other features: another key
        FRS(tiny[0], tiny[1], sae, [1, 2], SelectConfig(), layer=2, cache_dir=tmp_path, progress=False).score(pool)

def test_interrupted_scoring_resumes(pool, tmp_path):
    "Chunks finished before a crash are read back; only the rest is computed."
    prep = lambda r: dict(input_ids=[0]*len(r['response']))
    seen = []
    def run(b):
        if len(seen) >= 2: raise KeyboardInterrupt
        seen.append(len(b)); return [len(e['input_ids']) for e in b]
    with pytest.raises(KeyboardInterrupt): score_pool(pool, prep, run, {'k': 1}, 4, 4, tmp_path, progress=False)
    assert len(list(tmp_path.rglob('*.npy'))) == 2
    rest = []
    s = score_pool(pool, prep, lambda b: rest.append(len(b)) or [len(e['input_ids']) for e in b], {'k': 1}, 4, 4, tmp_path, progress=False)
    assert rest == [4] and s[:, 0].tolist() == [len(r) for r in pool['response']]

def test_explain(tiny, sae, pool):
    f = frs(tiny, sae); s = f.score(pool)
    i = int(np.argmax(s)); ex = pool[i]
    tab = explain(f, ex)
    assert tab.term.sum() == pytest.approx(s[i], rel=1e-6)
    assert list(tab.term) == sorted(tab.term, reverse=True) and set(tab.feature) == set(F)
    assert '<span style="background:rgba' in explain_html(f, ex)

def test_get_selector_builds_every_method(tiny, sae, pool):
    for m in ('igds', 'full', 'random', 'loss', 'ifd', 'zip', 'longest'):
        sel = get_selector(SelectConfig(method=m, batch_size=4), tiny[0], tiny[1], sae, F, layer=2, progress=False)
        ids = sel.select(pool, 0.5)
        assert len(ids) == (12 if m == 'full' else 6) and len(set(ids)) == len(ids)
        assert set(ids) <= set(pool['id']) and len(subset(pool, ids)) == len(ids)
    with pytest.raises(ValueError, match="needs sae, features"): get_selector(SelectConfig(), tiny[0], tiny[1])

def test_cli_writes_and_skips(tmp_path, sae, capsys):
    sae.save_model(tmp_path/'sae'); save_json(dict(features=F, model='tiny-random', layer=2), tmp_path/'f.json')
    args = ['select', '--method', 'igds', '--model', 'tiny-random', '--layer', '2', '--features', str(tmp_path/'f.json'),
            '--sae', str(tmp_path/'sae'), '--pool-size', '10', '--runs', str(tmp_path), '--batch-size', '4']
    assert main(args) == 0
    out = tmp_path/'tiny-random'/'math'/'igds-b0.5-s0'
    sj = load_json(out/'selection.json')
    assert sj['n_selected'] == 5 and sj['method'] == 'igds' and 'versions' in sj and sj['settings']['select']['budget'] == 0.5
    import pandas as pd
    df = pd.read_parquet(out/'scores.parquet')
    assert list(df.sort_values('rank').query('selected').id) == sj['ids'] and {'f17', 'n_tokens'} <= set(df.columns)
    m = (out/'selection.json').stat().st_mtime_ns
    assert main(args) == 0 and 'up to date' in capsys.readouterr().out and (out/'selection.json').stat().st_mtime_ns == m
    assert main(args + ['--force']) == 0 and (out/'selection.json').stat().st_mtime_ns != m
    assert main(['select', '--method', 'random', '--budget', '3', '--seed', '5', '--model', 'tiny-random', '--pool-size', '10',
                 '--runs', str(tmp_path)]) == 0
    assert load_json(tmp_path/'tiny-random'/'math'/'random-b3-s5'/'selection.json')['n_selected'] == 3
    assert main(['select', '--method', 'random', '--budget', '11', '--model', 'tiny-random', '--pool-size', '10', '--runs', str(tmp_path)]) == 1

def test_find_features_skips_ablations_and_asks_when_unsure(tmp_path):
    "The grid's random-candidates draw (newest) is not F*; of two main runs, the one of the command's splits is taken."
    import os
    from igds.config import TaskConfig
    from igds.select import find_features
    d = tmp_path/'tiny-random'/'math'; t0 = TaskConfig(); t1 = TaskConfig(dev_select_size=32)
    def run(name, when, **sett):
        f = save_json(dict(features=[dict(id=1)], settings=dict(model='tiny-random', layer=2, **sett)),
                      d/name/'features.json')
        os.utime(f, (when, when)); return f
    main = run('filter-aaaa', 1000, task=t0.split_key())
    run('filter-bbbb', 2000, task=t0.split_key(), draw='random-candidates-s0')
    assert find_features(tmp_path, 'tiny-random', 'math') == main
    assert find_features(tmp_path, 'tiny-random', 'math', t1, 2) == main  # the only main run
    other = run('filter-cccc', 3000, task=t1.split_key())
    assert find_features(tmp_path, 'tiny-random', 'math', t0, 2) == main
    assert find_features(tmp_path, 'tiny-random', 'math', t1, 2) == other
    for args in ((), (t0, 3), (TaskConfig(seed=5),)):
        msg = r'2 filtering runs.*filter-aaaa \(settings hash aaaa, written .*filter-cccc.*--features'
        with pytest.raises(ValueError, match=msg):
            find_features(tmp_path, 'tiny-random', 'math', *args)
