"""Command-line options come from the config dataclasses: each stage's options show the dataclass default, a changed
default shows in the parser, every stage takes one set of split options, the option names that scripts use still
work, and a data set too small for the splits asked is an error that names sizes that fit."""
import argparse, json
from dataclasses import fields
from pathlib import Path
import pytest
from igds.cli import build_parser, main
from igds.config import (ModelConfig, TaskConfig, SAEConfig, RecallConfig, FilterConfig, SelectConfig, FinetuneConfig,
                         EvalConfig)
from igds.tasks import TASK_RENAME, SIZES, task_config
from igds.sae import SAE_ARGS
from igds.evaluate import EVAL_ARGS
from igds.run import RunConfig, RECALL_ARGS, FILTER_ARGS, SELECT_ARGS

def commands(p=None)->dict:
    "{command: its parser}, with `sae train` and `sae report`."
    sub = lambda q: next(a for a in q._actions if isinstance(a, argparse._SubParsersAction)).choices
    out = dict(sub(p or build_parser()))
    return dict(out, **{f'sae {k}': v for k, v in sub(out['sae']).items()})

def actions(p)->dict: return {a.dest: a for a in p._actions}

ALL = None
TASK = ('name', 'data_dir', 'src_lang', 'tgt_lang', 'pool_size', 'probe_size', 'dev_select_size', 'dev_check_size',
        'test_size', 'seed', 'split_rule')
EXPECT = {  # command -> {config: the fields it takes as options (None: all)}
    'recall': {RecallConfig: ALL, TaskConfig: TASK, ModelConfig: ('name', 'layer', 'device'),
               SAEConfig: ('source', 'path')},
    'filter': {FilterConfig: ALL, TaskConfig: TASK, ModelConfig: ('name', 'layer', 'device')},
    'select': {SelectConfig: ALL, TaskConfig: TASK, ModelConfig: ('name', 'layer', 'device')},
    'finetune': {FinetuneConfig: ALL, TaskConfig: TASK, ModelConfig: ('name',)},
    'evaluate': {EvalConfig: EVAL_ARGS, TaskConfig: TASK, ModelConfig: ('name', 'device')},
    'run': {RunConfig: tuple(f.name for f in fields(RunConfig)), SelectConfig: ('method', *SELECT_ARGS, 'batch_size'),
            RecallConfig: (*RECALL_ARGS, 'generic_file'), FilterConfig: FILTER_ARGS},
    'sae train': {SAEConfig: SAE_ARGS, ModelConfig: ('name', 'layer'), TaskConfig: ('data_dir',)},
    'sae report': {SAEConfig: (*SAE_ARGS, 'path'), ModelConfig: ('name', 'layer'), TaskConfig: ('data_dir',)},
}
RENAME = {TaskConfig: TASK_RENAME, ModelConfig: dict(name='model'), RecallConfig: dict(generic_file='generic'),
          SAEConfig: dict(source='sae_source', path='sae_path')}

def shown(v)->str: return ','.join(map(str, v)) if isinstance(v, tuple) else str(v)

def expected(cmd):
    "(field, default, the option's action) for every field `cmd` takes as an option."
    acts = actions(commands()[cmd])
    for cls, names in EXPECT[cmd].items():
        for f in fields(cls):
            if names is None or f.name in names:
                dest = RENAME.get(cls, {}).get(f.name, f.name)
                assert dest in acts, f"igds {cmd}: no option for {cls.__name__}.{f.name}"
                yield cls, f, acts[dest]

@pytest.mark.parametrize('cmd', list(EXPECT))
def test_help_shows_the_dataclass_default(cmd):
    for cls, f, a in expected(cmd):
        if f.default is True: assert a.help.endswith('(default: on)') and a.default is True; continue
        if cmd == 'run' and cls is RunConfig and f.name == 'data': continue  # required
        assert f"(default: {shown(f.default)})".replace('%', '%%') in a.help, (cmd, f.name, a.help)
        want = None if cls is TaskConfig and f.name in SIZES else f.default
        want = list(want) if isinstance(want, tuple) and not all(isinstance(x, str) for x in want) else want
        assert a.default == (shown(want) if isinstance(want, tuple) else want), (cmd, f.name, a.default)
    text = ' '.join(commands()['filter'].format_help().split())
    assert '--alpha ALPHA scale: a_j ← α·a_j (default: 4.0)' in text

def test_a_changed_default_shows_in_the_parser(monkeypatch):
    monkeypatch.setattr(FilterConfig.__dataclass_fields__['alpha'], 'default', 3.0)
    monkeypatch.setattr(TaskConfig.__dataclass_fields__['probe_size'], 'default', 256)
    cmds = commands()
    assert cmds['filter'].parse_args([]).alpha == 3.0 and '(default: 3.0)' in actions(cmds['filter'])['alpha'].help
    for c in ('recall', 'filter', 'select', 'finetune', 'evaluate'):
        assert '(default: 256' in actions(cmds[c])['probe_size'].help

SPLITS = ('--pool-size', '--probe-size', '--dev-select-size', '--dev-check-size', '--split-seed')

@pytest.mark.parametrize('cmd', ['recall', 'filter', 'select', 'finetune', 'evaluate', 'run'])
def test_split_options_on_every_command(cmd):
    opts = {o for a in commands()[cmd]._actions for o in a.option_strings}
    assert set(SPLITS) <= opts
    if cmd != 'run': assert {'--test-size', '--split-rule'} <= opts  # run's test set is a file, its rule its own

OLD = {  # options that scripts, tests and experiments/*.sh pass, as they passed them before
    'recall': '--model tiny-random --task math --data-dir d --layer 2 --probe-size 4 --pool-size 4 --generic-size 4 '
              '--n-candidates 8 --classes all --tiebreak strength --generic g.txt --freq token --sae-source trained '
              '--sae-path s --batch-size 2 --device cpu --src de --tgt en --show 3 --runs r --force',
    'filter': '--dev-select 16 --dev-check 8 --candidates c --n-candidates 4 --sae s --layer 2 --mode clamp --alpha 2 '
              '--clamp-c 1 --beta 0.1 --metric likelihood --tau 0.1 --classes response --keep-rule z --n-null 4 '
              '--null-quantile 0.9 --z 2 --max-features 4 --batch-size 2 --no-sweep --alphas 1 2 --src de --tgt en '
              '--device cpu --runs r --force --stability --stability-sizes 8 16',
    'select': '--method random --budget 3 --seed 5 --layer 2 --pool-size 10 --features f --sae s --classes all '
              '--frs-reduce sum --frs-norm probe_max --frs-weight delta --loss-direction lowest --zip-k1 5 --zip-k2 4 '
              '--zip-k3 2 --batch-size 2 --max-length 64 --device cpu --runs r --out o --cache-dir c --no-cache '
              '--force',
    'finetune': '--selection s --pool-size 16 --mode full --epochs 2 --seed 1 --micro-batch 2 --effective-batch 4 '
                '--max-length 64 --save-every 5 --max-steps 1 --out o',
    'evaluate': '--limit 3 --adapter a --batch-size 2 --max-new-tokens 4 --no-nll --src de --tgt en --device cpu '
                '--runs r --out o',
    'sae train': '--model tiny-random --layer 2 --n-tokens 1000 --epochs 2 --k 8 --width-mult 4 --lr 0.001 --seed 1 '
                 '--n-eval 3 --data-dir d --commit --force',
    'sae report': '--model tiny-random --layer 2 --sae-path p --n-eval 3',
    'run': '--data x.jsonl --probe p.jsonl --test t.jsonl --method igds --sae random --budget 0.5 --fmt alpaca '
           '--prompt-field q --response-field a --id-field key --probe-size 8 --dev-select-size 16 --dev-check-size 16 '
           '--pool-size 20 --split-seed 1 --n-candidates 8 --n-null 8 --generic g.txt --generic-skip math '
           '--max-length 256 --batch-size 2 --out o --force',
}

@pytest.mark.parametrize('cmd', list(OLD))
def test_older_option_names_still_work(cmd):
    a = commands()[cmd].parse_args(OLD[cmd].split())
    if cmd == 'filter':
        t = task_config(a, fit=False)
        assert (t.dev_select_size, t.dev_check_size) == (16, 8)
        assert FilterConfig.from_args(a) == FilterConfig(
            mode='clamp', alpha=2, clamp_c=1, beta=0.1, tau=0.1, classes=('response',), keep_rule='z', n_null=4,
            null_quantile=0.9, z=2, max_features=4, batch_size=2, alphas=(1.0, 2.0))
    if cmd == 'evaluate':
        assert task_config(a, fit=False).test_size == 3
        assert EvalConfig.from_args(a, EVAL_ARGS) == EvalConfig(batch_size=2, max_new_tokens=4, nll=False)
    if cmd == 'recall':
        assert RecallConfig.from_args(a, rename=dict(generic_file='generic')) == RecallConfig(
            n_candidates=8, classes='all', tiebreak='strength', generic_file='g.txt', freq='token', generic_size=4,
            batch_size=2)
    if cmd == 'select':
        assert SelectConfig.from_args(a) == SelectConfig(
            method='random', budget=3, seed=5, classes='all', frs_reduce='sum', frs_norm='probe_max',
            frs_weight='delta', loss_direction='lowest', zip_k1=5, zip_k2=4, zip_k3=2, batch_size=2)
    if cmd == 'finetune':
        assert FinetuneConfig.from_args(a) == FinetuneConfig(mode='full', epochs=2, seed=1, micro_batch=2,
                                                            effective_batch=4, max_length=64)
    if cmd == 'sae train':
        want = SAEConfig(n_tokens=1000, epochs=2, k=8, width_mult=4, lr=0.001, seed=1)
        assert SAEConfig.from_args(a, SAE_ARGS) == want

def test_defaults_give_the_configs_defaults():
    "With no options, each command builds the configs it built before: the dataclass defaults."
    cmds = commands()
    assert FilterConfig.from_args(cmds['filter'].parse_args([])) == FilterConfig()
    assert SelectConfig.from_args(cmds['select'].parse_args([])) == SelectConfig()
    assert FinetuneConfig.from_args(cmds['finetune'].parse_args(['--out', 'o'])) == FinetuneConfig()
    assert RecallConfig.from_args(cmds['recall'].parse_args([]), rename=dict(generic_file='generic')) == RecallConfig()
    assert task_config(cmds['recall'].parse_args([])) == TaskConfig()  # the samples hold the default splits
    assert task_config(cmds['evaluate'].parse_args([]), fit=False) == TaskConfig()

@pytest.fixture
def small_math(tmp_path):
    "A folder in the GSM8K layout with 50 training rows."
    (tmp_path/'gsm8k').mkdir()
    rows = [json.dumps(dict(question=f'{i}+1?', answer=f'#### {i+1}')) + '\n' for i in range(50)]
    (tmp_path/'gsm8k'/'train.jsonl').write_text(''.join(rows))
    return tmp_path

@pytest.mark.parametrize('cmd', ['recall', 'filter', 'select', 'finetune'])
def test_too_small_data_names_sizes_that_fit(cmd, small_math, capsys):
    args = [cmd, '--model', 'tiny-random', '--data-dir', str(small_math), '--probe-size', '45']
    args += ['--out', 'o'] if cmd == 'finetune' else []
    assert main(args) == 1
    err = capsys.readouterr().err
    assert 'math: the training split has 50 rows' in err
    assert 'sizes that fit: --dev-select-size 5 --dev-check-size 5 --probe-size 20 --pool-size 20' in err, err

def test_small_data_shrinks_the_sizes_not_asked(small_math):
    p = commands()['filter']
    t = task_config(p.parse_args(['--data-dir', str(small_math)]))
    assert (t.dev_select_size, t.dev_check_size, t.probe_size, t.pool_size) == (5, 5, 20, 20)
    t = task_config(p.parse_args(['--data-dir', str(small_math), '--probe-size', '10', '--dev-select', '2']))
    assert (t.dev_select_size, t.dev_check_size, t.probe_size, t.pool_size) == (2, 5, 10, 33)
