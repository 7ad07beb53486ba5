"""`igds run` (igds.run) end to end at the tiny size: the committed Alpaca sample through a baseline (no model) and
through IGDS (the `tiny-random` model, a random SAE), the outputs checked against the input file, resume and rerun,
and each bad input an error that names the file."""
import json, os, shutil
from pathlib import Path
import pandas as pd
import pytest
from igds.cli import main
from igds.config import load_json
from igds.select import random_sae
from igds.tasks import repo_data

SAMPLE = repo_data()/'own'/'alpaca_sample.jsonl'
LINES = SAMPLE.read_bytes().splitlines(keepends=True)
TINY = ['--model', 'tiny-random', '--n-candidates', '8', '--generic-size', '24', '--n-null', '4',
        '--keep-rule', 'positive', '--tau', '-1']  # a random model's Δ rarely clears a null: keep the positive rule
OUTPUTS = ('selected.jsonl', 'scores.parquet', 'selection.json', 'report.html')


def igds_run(out, *args, data=SAMPLE):
    return main(['run', '--data', str(data), '--out', str(out), *map(str, args)])


def mtimes(d, names=OUTPUTS): return {n: os.stat(Path(d)/n).st_mtime_ns for n in names}


def check_selected(out):
    "selected.jsonl holds whole input lines, byte for byte, in input order: the rows scores.parquet marks selected."
    got = (Path(out)/'selected.jsonl').read_bytes().splitlines(keepends=True)
    df = pd.read_parquet(Path(out)/'scores.parquet')
    rows = sorted(df[df.selected].row)
    assert got == [LINES[r] for r in rows]
    return df


@pytest.fixture(scope='module')
def igds_out(tmp_path_factory):
    "An IGDS run on the sample with a random SAE saved as a sae-lens folder, and the time stamps of its artifacts."
    d = tmp_path_factory.mktemp('igds')
    random_sae(d_in=64, d_sae=256, hook='model.layers.2').save_model(str(d/'sae'))
    out = d/'run'
    assert igds_run(out, '--method', 'igds', '--sae', d/'sae', '--budget', 0.5, *TINY) == 0
    return out


def test_random_needs_no_model_and_writes_the_input_lines(tmp_path, monkeypatch):
    import igds.run
    monkeypatch.setattr(igds.run, 'load_model', lambda *a, **k: pytest.fail('random loaded a model'))
    assert igds_run(tmp_path, '--method', 'random', '--budget', 0.5) == 0
    df = check_selected(tmp_path)
    assert list(df.columns) == ['id', 'row', 'score', 'n_chars', 'selected', 'rank']
    assert len(df) == 24 and df.selected.sum() == 12  # 60 rows: probe 24, dev sets 6 + 6, pool 24
    assert sorted(df[df.selected]['rank']) == list(range(12))
    page = (tmp_path/'report.html').read_text()
    assert '<svg' in page and 'http' not in page.split('<svg')[0]  # the figure inline, nothing fetched


def test_rerun_is_skipped(tmp_path, capsys):
    assert igds_run(tmp_path, '--method', 'random') == 0
    before = mtimes(tmp_path)
    assert igds_run(tmp_path, '--method', 'random') == 0
    assert 'up to date' in capsys.readouterr().out and mtimes(tmp_path) == before
    assert igds_run(tmp_path, '--method', 'random', '--seed', 1) == 0  # another setting: selected again
    assert mtimes(tmp_path)['selection.json'] != before['selection.json']


def test_igds_outputs(igds_out):
    df = check_selected(igds_out)
    feats = load_json(igds_out/'features.json')
    ids = [f['id'] for f in feats['features']]
    assert ids and all(f['se'] is not None for f in feats['features'])
    assert {'id', 'row', 'score', 'n_tokens', 'n_template', 'n_content', 'n_response', 'n_chars', 'n_tokens_uncut',
            'too_long', 'selected', 'rank'} | {f'f{j}' for j in ids} == set(df.columns)
    assert (df[[f'f{j}' for j in ids]].sum(axis=1) - df.score).abs().max() < 1e-9  # the score is the sum of its terms
    page = (igds_out/'report.html').read_text()
    assert all(f'<td>{j}</td>' in page for j in ids) and page.count('<b>feature ') >= 6  # 3 top + 3 bottom shaded
    assert 'src=' not in page and '<script' not in page


def test_long_examples_ranked_last_and_reported(igds_out):
    df = pd.read_parquet(igds_out/'scores.parquet')
    assert (df.too_long == (df.n_tokens_uncut > 512)).all() and df.too_long.any() and (~df.too_long).sum() >= 12
    assert not df[df.selected].too_long.any()  # 12 kept, more than 12 fit: no long one is kept
    sel = load_json(igds_out/'selection.json')
    assert len(sel['long']) == df.too_long.sum() and 'tokens > max_length 512; ranked last, not cut' in sel['long'][0]


def test_a_rerun_and_a_new_budget_reuse_recall_and_filtering(igds_out, tmp_path):
    out = tmp_path/'run'; shutil.copytree(igds_out, out)
    sae = igds_out.parent/'sae'
    stages = mtimes(out, ('candidates.json', 'features.json'))
    before = mtimes(out)
    assert igds_run(out, '--method', 'igds', '--sae', sae, '--budget', 0.5, *TINY) == 0
    assert mtimes(out) == before
    assert igds_run(out, '--method', 'igds', '--sae', sae, '--budget', 6, *TINY) == 0
    assert mtimes(out, ('candidates.json', 'features.json')) == stages
    assert load_json(out/'selection.json')['n_selected'] == 6 and len(check_selected(out)[lambda d: d.selected]) == 6
    for f in ('features.json', 'selection.json'): (out/f).unlink()  # as if killed after recall: recall is not redone
    assert igds_run(out, '--method', 'igds', '--sae', sae, '--budget', 6, *TINY) == 0
    assert (out/'features.json').exists() and (out/'selection.json').exists()
    assert mtimes(out, ('candidates.json',))['candidates.json'] == stages['candidates.json']


def test_probe_file_overlap_is_removed_and_reported(tmp_path, capsys):
    probe = tmp_path/'probe.jsonl'; probe.write_bytes(b''.join(LINES[:30]))
    assert igds_run(tmp_path/'out', '--method', 'random', '--probe', probe, '--budget', 10) == 0
    assert 'removed 30 pool rows' in capsys.readouterr().out
    df = check_selected(tmp_path/'out')
    assert sorted(df.row) == list(range(30, 60))
    page = (tmp_path/'out'/'report.html').read_text()
    assert 'Removed or ranked last (30)' in page and 'the same as' in page


def test_test_file_overlap_is_removed(tmp_path):
    test = tmp_path/'test.jsonl'; test.write_bytes(b''.join(LINES[50:]))
    assert igds_run(tmp_path/'all', '--method', 'full') == 0
    assert igds_run(tmp_path/'out', '--method', 'full', '--test', test) == 0
    pool, df = check_selected(tmp_path/'all'), check_selected(tmp_path/'out')
    assert df.selected.all() and (pool.row >= 50).any() and list(df.row) == [r for r in pool.row if r < 50]


@pytest.mark.parametrize('args, data, msg', [
    (['--budget', 100], None, 'budget 100 is larger than the pool (24 examples)'),
    (['--pool-size', 100], None, 'sizes that fit: probe_size=24, dev_select_size=6, dev_check_size=6, pool_size=24'),
    ([], b'', 'empty: no rows to read'),
    ([], b'{"instruction": "a", "output": ""}\n', "1 (row 0): field 'output': empty response"),
    ([], b'{"question": "a", "answer": "b"}\n', "1 (row 0): unknown format: fields ['answer', 'question']"),
    ([], b'{"instruction": "a\xff", "output": "b"}\n', "1 (row 0, field 'instruction'): bytes that are not UTF-8"),
    (['--probe-size', 59], None, "60 rows do not hold the splits asked"),
])
def test_bad_input_is_an_error_naming_the_file(tmp_path, capsys, args, data, msg):
    path = SAMPLE
    if data is not None: path = tmp_path/'pool.jsonl'; path.write_bytes(data)
    assert igds_run(tmp_path/'out', '--method', 'random', *args, data=path) == 1
    err = capsys.readouterr().err
    assert err.startswith('igds run: error: ') and msg in err and str(path) in err, err
    assert not (tmp_path/'out'/'selected.jsonl').exists()


def _formats(tmp_path):
    "The sample's rows as a ShareGPT JSON array, a chat-messages Parquet file and a prompt/response CSV."
    rows = [json.loads(l) for l in LINES]
    prompt = lambda r: r['instruction'] + ('\n\n' + r['input'] if r['input'] else '')
    turns = lambda r: [{'from': 'human', 'value': prompt(r)}, {'from': 'gpt', 'value': r['output']}]
    share = [dict(id=f's{i}', conversations=turns(r)) for i, r in enumerate(rows)]
    (tmp_path/'share.json').write_text(json.dumps(share, indent=1, ensure_ascii=False), encoding='utf-8')
    msgs = [dict(messages=[dict(role='system', content='Be brief.'), dict(role='user', content=prompt(r)),
                           dict(role='assistant', content=r['output'])], source=i) for i, r in enumerate(rows)]
    pd.DataFrame(msgs).to_parquet(tmp_path/'msgs.parquet')
    pd.DataFrame(dict(prompt=[prompt(r) for r in rows], response=[r['output'] for r in rows])).to_csv(tmp_path/'pr.csv',
                                                                                                     index=False)


@pytest.mark.parametrize('name', ['share.json', 'msgs.parquet', 'pr.csv'])
def test_other_formats_come_back_in_their_own(tmp_path, name):
    from igds.owndata import load_rows
    _formats(tmp_path)
    assert igds_run(tmp_path/'out', '--method', 'random', '--budget', 0.5, data=tmp_path/name) == 0
    out = tmp_path/'out'/f"selected{Path(name).suffix}"
    df = pd.read_parquet(tmp_path/'out'/'scores.parquet')
    src = load_rows(tmp_path/name).rows
    assert load_rows(out).rows == [src[r] for r in sorted(df[df.selected].row)] and df.selected.sum() == 12
