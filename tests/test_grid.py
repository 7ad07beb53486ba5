"""The papermill grid: the template runs at fixture size without error output, --dry lists, finished cells are skipped,
a crashed cell is recorded and the grid goes on."""
import contextlib, io, json, os
from pathlib import Path
import nbformat
import pytest
from igds import cells, grid as G, timing
from igds.cli import main

def _errors(nb_path:Path)->list:
    "Error outputs of an executed notebook, and stderr that carries a traceback."
    nb = nbformat.read(nb_path, as_version=4); bad = []
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error': bad.append((i, o.get('ename'), o.get('evalue')))
            if o.get('output_type') == 'stream' and o.get('name') == 'stderr' and ('Traceback' in o['text'] or 'Error' in o['text']):
                bad.append((i, 'stderr', o['text'][-500:]))
    return bad

# The tiny preset keeps every candidate (τ = -1e9) so that its cells never stop for want of features; these tests run
# it at the method's τ = 0, where on the tiny model some candidates have Δ ≤ 0 and more than K have Δ > 0, so both
# halves of the keep rule act (test_keep_rule_runs_end_to_end checks that they do).
KEEP = dict(G.PRESETS['tiny'], params=dict(G.PRESETS['tiny']['params'], tau=0.0))

@pytest.fixture(scope='module')
def grid_run(tmp_path_factory):
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    root = tmp_path_factory.mktemp('grid')
    runs, results, figures = root/'runs', root/'results', root/'figures'
    cells = [G.Cell('no-such-model', 'translation', 'random', 0), G.Cell('tiny-random', 'translation', 'igds', 0)]
    st = G.run_grid(cells, KEEP, runs, results, figures, make_figures=True, echo=lambda *a: None)
    return dict(root=root, runs=runs, results=results, figures=figures, cells=cells, status=st)

def test_template_runs_clean_at_fixture_size(grid_run):
    good = grid_run['cells'][1]
    assert grid_run['status']['tiny-random/translation/igds-b0.5-s0'] == 'done'
    nb = good.dir(grid_run['runs'])/'run.ipynb'
    assert _errors(nb) == []
    m = json.loads(good.result(grid_run['results']).read_text())
    assert m['cell']['method'] == 'igds' and m['metrics']['n'] == 4
    assert (m['selection']['n_selected'], m['selection']['n_pool']) == (8, 16)
    assert set(m['fstar']) >= {'before', 'after', 'change'} and len(m['fstar']['ids']) == 4
    assert (good.result(grid_run['results']).parent/'features.json').exists()
    assert (good.result(grid_run['results']).parent/'stability.json').exists()
    assert any(grid_run['figures'].glob('stability_*.png')) and any(grid_run['figures'].glob('delta_alpha_*.png'))
    assert (grid_run['figures']/'main_table.txt').exists() and (grid_run['figures']/'main.png').exists()
    assert _errors(grid_run['runs']/'figures.ipynb') == []

def test_keep_rule_runs_end_to_end(grid_run):
    "F* of the igds cell is the candidates with Δ > τ, best first, at most K, and it is the F* the cell reports on."
    good = grid_run['cells'][1]
    f = json.loads((good.result(grid_run['results']).parent/'features.json').read_text())
    tau, K, cands = KEEP['params']['tau'], KEEP['params']['max_features'], f['candidates']
    assert f['settings']['filter']['tau'] == tau and len(cands) == KEEP['params']['n_candidates']
    passing = [c['id'] for c in sorted(cands, key=lambda c: -c['delta']) if c['delta'] > tau]
    assert len(cands) > len(passing) > K, [(c['id'], c['delta']) for c in cands]  # τ and the cap K both drop some
    assert [x['id'] for x in f['features']] == passing[:K]
    assert [c['id'] for c in cands if c['kept']] == [c['id'] for c in cands if c['id'] in passing[:K]]
    assert json.loads(good.result(grid_run['results']).read_text())['fstar']['ids'] == passing[:K]

def test_crashed_cell_is_recorded_and_the_grid_goes_on(grid_run):
    bad = grid_run['cells'][0]
    assert grid_run['status']['no-such-model/translation/random-b0.5-s0'] == 'failed'
    f = json.loads((bad.dir(grid_run['runs'])/'failed.json').read_text())
    assert 'unknown model' in f['error'] and f['params']['model'] == 'no-such-model'
    assert not bad.result(grid_run['results']).exists()
    log = [json.loads(l) for l in (grid_run['runs']/'grid.log').read_text().splitlines()]
    assert [l['status'] for l in log] == ['failed', 'done']

def test_finished_cells_are_skipped_and_dry_lists(grid_run):
    good = grid_run['cells'][1]
    nb = good.dir(grid_run['runs'])/'run.ipynb'; t = nb.stat().st_mtime
    st = G.run_grid([good], G.PRESETS['tiny'], grid_run['runs'], grid_run['results'], grid_run['figures'],
                    make_figures=False, echo=lambda *a: None)
    assert st == {'tiny-random/translation/igds-b0.5-s0': 'skipped'} and nb.stat().st_mtime == t
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(['grid', '--preset', 'tiny', '--methods', 'random,igds', '--runs', str(grid_run['runs']),
              '--results', str(grid_run['results']), '--dry'])
    lines = buf.getvalue().splitlines()
    m = json.loads(good.result(grid_run['results']).read_text())
    took, own = m['seconds'], m['seconds'] - m['shared_seconds']  # the igds cell ran the task's once-per-task stages
    assert 0 < m['shared_seconds'] < took
    assert lines[0] == '2 cells (--dry: nothing run)'
    assert lines[1] == f'    todo  tiny-random/translation/random-b0.5-s0  {own:7.0f} s (est.)'  # from the finished igds cell
    assert lines[2] == f'    done  tiny-random/translation/igds-b0.5-s0    {took:7.0f} s'  # names padded to one width
    assert lines[3].startswith(f'left: 1 cells, about {own/3600:.1f} h for the 1 with an estimate')
    assert not (grid_run['runs']/'tiny-random'/'translation'/'random-b0.5-s0').exists()

def test_unknown_method_fails_before_running():
    with pytest.raises(ValueError, match='known methods are'): G.grid_cells(['tiny-random'], ['math'], ['igds-max'], [0])

def test_baseline_cell_finishes_without_sae(tmp_path):
    "A baseline cell does not need the SAE: without one it finishes, reported without F*'s activation."
    runs, results = tmp_path/'runs', tmp_path/'results'
    cell = G.Cell('tiny-random', 'translation', 'random', 0)
    preset = dict(G.PRESETS['tiny'], params=dict(G.PRESETS['tiny']['params'], sae='auto', stability=False))
    st = G.run_grid([cell], preset, runs, results, tmp_path/'fig', make_figures=False, echo=lambda *a: None)
    assert st == {'tiny-random/translation/random-b0.5-s0': 'done'}
    assert json.loads(cell.result(results).read_text())['fstar'] is None

def test_per_example_statistics_reproduce_the_metrics(grid_run):
    "`<cell>.examples.json` holds what the paired bootstrap resamples; summed, it gives the cell's metrics back."
    import numpy as np
    from igds.tasks import get_task
    good = grid_run['cells'][1]; ex = good.examples(grid_run['results'])
    rec, m = json.loads(ex.read_text()), json.loads(good.result(grid_run['results']).read_text())
    assert len(rec['ids']) == len(rec['stats']) == len(rec['nll']) == 4 and rec['cell'] == m['cell']
    got = get_task('translation').from_stats(np.array(rec['stats']).sum(0))
    for k in ('bleu', 'chrf'): assert got[k] == pytest.approx(m['metrics'][k])
    assert np.mean(rec['nll']) == pytest.approx(m['metrics']['ref_nll'])
    assert G.example_record(good.dir(grid_run['runs'])) == rec  # rebuilt from the run folder: the same

def test_selection_profile_is_recorded(grid_run):
    "A cell records the mean trained response tokens of its selection and of the pool, and the ids it kept."
    good = grid_run['cells'][1]; f, run = good.result(grid_run['results']), good.dir(grid_run['runs'])
    sel = json.loads(f.read_text())['selection']
    assert sel['response_tokens'] > 0 and sel['pool_response_tokens'] > 0 and sel['n_selected'] == 8
    assert sel['ids'] == sorted(json.loads((run/'selection.json').read_text())['ids']) and 0 <= sel['longest_share'] <= 1
    assert set(sel) >= set(cells.PROFILE_KEYS)
    assert json.loads((run/'metrics.json').read_text())['selection'] == sel

def test_a_cell_cut_short_counts_its_earlier_executions(tmp_path):
    "A cell that failed (here: papermill's per-cell timeout) and then finished has both executions in its `seconds`."
    runs, results = tmp_path/'runs', tmp_path/'results'
    cell = G.Cell('tiny-random', 'translation', 'random', 0)
    preset = dict(G.PRESETS['tiny'], params=dict(G.PRESETS['tiny']['params'], sae='auto', stability=False))
    params = G.cell_params(cell, preset, str(runs))
    assert G.run_cell(cell, params, runs, results, timeout=1, progress=False) == 'failed'  # the imports take longer
    first = timing.attempt_record(cell.dir(runs)/'run.ipynb')
    assert first['status'] == 'failed' and first['seconds'] > 0
    assert G.run_cell(cell, params, runs, results, progress=False) == 'done'
    m = json.loads(cell.result(results).read_text())
    last = timing.attempt_record(cell.dir(runs)/'run.ipynb')
    assert last['status'] == 'finished' and m['earlier_attempts'] == [first]
    # the last execution's own seconds, timed inside the kernel, start after its start-up: a little under papermill's
    assert last['seconds'] - 30 < m['seconds'] - first['seconds'] <= last['seconds']
    assert m['shared_seconds'] == pytest.approx(last['shared_seconds'] + first['shared_seconds'], abs=0.2)
    assert json.loads((cell.dir(runs)/'metrics.json').read_text())['seconds'] == m['seconds']

def test_cpu_small_keeps_the_task_config_of_its_results():
    "The cpu-small preset builds the TaskConfig (split rule v1, same hash) each committed result was run with."
    from igds.analysis import iter_results
    from igds.config import TaskConfig
    results = Path(__file__).resolve().parent.parent/'figures'/'results'
    done = [m for _, m in iter_results(results) if m['cell']['model'] == 'smollm2-135m']
    assert done
    for m in done:
        c = m['cell']; cell = G.Cell(c['model'], c['task'], c['method'], c['seed'], c['budget'])
        t = cells.cell_configs(**G.cell_params(cell, G.PRESETS['cpu-small'], 'runs')).task
        saved = TaskConfig.from_dict(m['provenance']['task'])
        assert t.split_rule == saved.split_rule == 'v1'
        assert t.to_dict() == dict(saved.to_dict(), data_dir=t.data_dir)  # data_dir was recorded resolved

def test_template_passes_every_parameter():
    "Each parameter of experiments/run.ipynb reaches `cell_configs` (papermill would set one the call drops in vain)."
    import ast
    nb = nbformat.read(G.template('run'), as_version=4)
    params = [c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])][0]
    names = [t.id for n in ast.parse(params.source).body for t in n.targets]
    call = next(c.source for c in nb.cells if 'G.cell_configs(' in c.source)
    kw = {k.arg for n in ast.walk(ast.parse(call)) if isinstance(n, ast.Call) for k in n.keywords}
    assert 'split_rule' in names and set(names) <= kw, set(names) - kw

def test_task_features_null_from_live_features_and_stability_resamples_delta(tmp_path):
    "The grid's filter draws its null from the features live on the probe; stability resamples Δ per split."
    from igds.config import load_json
    from igds.models import load_model
    from igds.tasks import make_splits
    params = dict(G.PRESETS['tiny']['params'], keep_rule='null', n_null=8, null_quantile=0.1, runs=str(tmp_path))
    C = cells.cell_configs('tiny-random', 'translation', 'igds', **params)
    model, tok = load_model(C.model); sae = cells.cell_sae(C, model); splits = make_splits(C.task)
    tf = cells.task_features(C, model, tok, sae, splits)
    live, null = set(cells.live_features(tf['recall_dir']).tolist()), tf['features']['null']
    assert null['pool'] == len(live) and null['pool_from'] == 'null_pool' and len(null['ids']) == 8
    assert set(null['ids']) <= live - {c['id'] for c in tf['candidates']}
    assert (Path(tf['features_path']).parent/'deltas.jsonl').exists()
    from igds import intervene as iv
    parts = lambda: list(C.task_dir.glob('stability-*.partial.jsonl'))
    real_ll, real_dv, measured = iv.loglik, iv.delta_vectors, []
    def killing(*a, **k):  # dies once stability has measured its first new Δ
        if any(f.read_text().count('\n') >= 1 for f in parts()): raise KeyboardInterrupt
        return real_ll(*a, **k)
    def spy(model, sae, cache, ids, *a, resume=None, **k):
        measured.extend(j for j in ids if j not in iv.read_deltas(resume))
        return real_dv(model, sae, cache, ids, *a, resume=resume, **k)
    iv.loglik = killing
    try:
        with pytest.raises(KeyboardInterrupt): cells.task_stability(C, tf, model, tok, sae, splits, sizes=(8, 16))
    finally: iv.loglik = real_ll
    iv.delta_vectors = spy
    try: st = load_json(cells.task_stability(C, tf, model, tok, sae, splits, sizes=(8, 16)))
    finally: iv.delta_vectors = real_dv
    known = iv.read_deltas(Path(tf['features_path']).parent/'deltas.jsonl')
    assert len(st['deltas']) - len(known) == len(measured) + 1 and not parts()  # the kill's Δ was not measured again
    assert st['delta_resample']['method'] == 'bootstrap' and st['null'] == null['ids']
    assert set(st['features']) == {'half A', 'half B', 'n=8', 'n=16'}
