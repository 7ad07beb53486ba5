"Frequency recall: bad input with clear messages, the CLI's run folder, skip and --force."
import json
from pathlib import Path
from unittest import mock
import numpy as np
import pytest
from igds.config import ModelConfig, TaskConfig, SAEConfig, RecallConfig
from igds.tasks import make_splits, generic_text
from igds import recall as R
from igds.cli import main

TASK = TaskConfig(name='math', pool_size=8, probe_size=12, dev_select_size=2, dev_check_size=2, test_size=2)
RCFG = RecallConfig(n_candidates=5, generic_size=8)
MC = ModelConfig(name='tiny-random', layer=2)

def test_rank_candidates_by_task_minus_generic_frequency():
    """Best first by task minus generic frequency, ties by lift (then id), or by probe strength under v1's rule; features
    silent on the probe or firing on more than generic_max_freq of generic examples are dropped."""
    ft = np.array([.9, .5, .5, 0., 1., .6, .6, .3])
    fg = np.array([.1, .5, 0., 0., .95, .2, .2, .8])
    strength = np.array([0, 0, 0, 0, 0, 1., 2., 0])
    got = R.rank_candidates(ft, fg, n=5, generic_max_freq=0.9, strength=strength, tiebreak='strength')
    assert [c['feature'] for c in got] == [0, 2, 6, 5, 1]  # 0.8, 0.5, 0.4 (the stronger), 0.4, 0.0; 3 and 4 dropped
    assert [c['score'] for c in got] == pytest.approx([.8, .5, .4, .4, 0.])
    got = R.rank_candidates(ft, fg, n=5, generic_max_freq=0.9, strength=strength)  # lift: 5 and 6 tie, so by id
    assert [c['feature'] for c in got] == [0, 2, 5, 6, 1]
    ft[6], fg[6] = .45, .05  # same contrast 0.4, but more selective: lift 0.46/0.06 against 0.61/0.21 (ε = 1/100)
    assert [c['feature'] for c in R.rank_candidates(ft, fg, n=5, n_generic=100)][2:4] == [6, 5]

def test_sae_width_differs_from_model(tiny, tmp_path, new_sae):
    m, tk = tiny
    with pytest.raises(ValueError, match=r'd_in=32 but .* residual width 64'):
        R.run_recall(MC, TASK, SAEConfig(), RCFG, runs=tmp_path, model=m, tokenizer=tk, sae=new_sae(d_in=32, d_sae=128))

def test_layer_the_sae_was_not_trained_on(tiny, tmp_path, new_sae):
    m, tk = tiny
    with pytest.raises(ValueError, match=r'trained on layer 3 .* layer 2 was asked'):
        R.run_recall(MC, TASK, SAEConfig(), RCFG, runs=tmp_path, model=m, tokenizer=tk, sae=new_sae(layer=3))

def test_probe_smaller_than_asked(tiny, sae, tmp_path):
    m, tk = tiny
    with pytest.raises(ValueError, match=r"'probe': 5000"):  # the samples hold 2000 training examples
        R.run_recall(MC, TASK.replace(probe_size=5000), SAEConfig(), RCFG, runs=tmp_path, model=m, tokenizer=tk,
                     sae=sae)
    probe = make_splits(TASK)['probe']
    with pytest.raises(ValueError, match='the probe set has 12 examples but 100 were asked'):
        R.recall_features(m, tk, sae, 2, probe, generic_text(TASK, 8), RCFG,
                          tmp_path, probe_size=100, progress=False)
    with pytest.raises(ValueError, match='generic text has 8 examples but RecallConfig.generic_size=64'):
        R.recall_features(m, tk, sae, 2, probe, generic_text(TASK, 8),
                          RCFG.replace(generic_size=64), tmp_path, progress=False)

def test_cli_writes_skips_and_forces(tmp_path, capsys, sae):
    sae_dir = tmp_path/'sae'
    sae.save_model(sae_dir)
    args = ['recall', '--model', 'tiny-random', '--layer', '2', '--task', 'math', '--probe-size', '12', '--pool-size', '8',
            '--generic-size', '8', '--n-candidates', '5', '--sae-path', str(sae_dir), '--runs', str(tmp_path/'runs')]
    assert main(args) == 0
    out = capsys.readouterr().out
    folder = Path(out.strip().splitlines()[-1])
    assert folder.parent == tmp_path/'runs'/'tiny-random'/'math' and folder.name.startswith('recall-')
    c = json.loads((folder/'candidates.json').read_text())
    assert len(c['candidates']) == 5 and {'feature', 'freq_task', 'freq_generic'} <= set(c['candidates'][0])
    assert c['configs']['recall']['n_candidates'] == 5 and c['versions']['sae-lens']
    assert all(x['freq_generic'] <= 0.9 for x in c['candidates'])
    with mock.patch.object(R, 'recall_features') as rf:
        assert main(args) == 0; rf.assert_not_called()
    with mock.patch.object(R, 'recall_features', side_effect=RuntimeError('redone')):
        assert main(args + ['--force']) == 1
    assert 'redone' in capsys.readouterr().err

def test_cli_without_an_sae_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('IGDS_CACHE', str(tmp_path))
    assert main(['recall', '--model', 'tiny-random', '--probe-size', '4', '--pool-size', '4', '--generic-size', '4',
                 '--runs', str(tmp_path/'runs')]) == 1
    assert 'igds sae train --model tiny-random --layer 2' in capsys.readouterr().err
