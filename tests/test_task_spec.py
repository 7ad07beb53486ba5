"""Tasks defined by data (`igds.datatask`): a spec file's round trip, bad specs named by file and field, a user task
through `make_splits` and its metric, registration from `$IGDS_TASK_SPECS` in a fresh process, and the built-in
tasks' splits and cache keys, which the change must leave as they were (the values below were computed before it)."""
import argparse, json, os, re, subprocess, sys
from pathlib import Path
import pytest, yaml
from igds.config import TASKS, TaskConfig, ModelConfig, RecallConfig, SAEConfig, stable_hash
from igds.tasks import (TaskSpec, MathTask, SummarizationTask, TranslationTask, get_task, make_splits, generic_tasks,
                        generic_text, training_sample, data_args, task_config)
from igds.datatask import DataTask, load_spec, register_spec, SPEC_ENV

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = ['math', 'summarization', 'translation']

def write_rows(path:Path, rows:list): path.write_text(''.join(json.dumps(r) + '\n' for r in rows))

@pytest.fixture
def registry():
    "TASKS as it was before the test: the tasks a test registers are removed afterwards."
    saved = dict(TASKS.load())
    yield TASKS
    TASKS.clear(); TASKS.update(saved)

@pytest.fixture
def qa(tmp_path):
    "A user task's spec: a 40-row pool, a 12-row probe file and a 5-row test set in two named fields, exact match."
    rows = lambda n, kind: [dict(question=f'{kind} {i} + {i}?', answer=f'{i} + {i} = {2*i}\n#### {2*i}')
                            for i in range(n)]
    for name, n in (('pool', 40), ('probe', 12), ('test', 5)): write_rows(tmp_path/f'{name}.jsonl', rows(n, name))
    spec = TaskSpec(name='qa-test', data='pool.jsonl', probe='probe.jsonl', test='test.jsonl', prompt_field='question',
                    response_field='answer', metric='exact_match', max_new_tokens=32)
    spec.save(tmp_path/'qa.yaml')
    return tmp_path/'qa.yaml'

def test_spec_round_trip(tmp_path, qa):
    spec = load_spec(qa)
    assert yaml.safe_load(qa.read_text())['metric'] == 'exact_match'  # a plain YAML mapping of the fields
    spec.save(tmp_path/'again.yaml'); spec.save(tmp_path/'again.json')
    assert load_spec(tmp_path/'again.yaml') == spec == load_spec(tmp_path/'again.json')
    for cls in (MathTask, SummarizationTask, TranslationTask):  # the built-in tasks are described the same way
        assert TaskSpec.from_dict(cls.spec.to_dict()) == cls.spec
        assert (cls.name, cls.max_length) == (cls.spec.name, cls.spec.max_length)
    assert [get_task(t).primary for t in BUILTIN] == ['exact_match', 'rougeL', 'chrf']
    ex = load_spec(ROOT/'data'/'own'/'alpaca_task.yaml')  # the committed example
    assert (ex.name, ex.data, ex.metric) == ('alpaca-sample', 'alpaca_sample.jsonl', 'likelihood')

BAD = [('name: qa\ndata: pool.jsonl\nmetric: f1\n', "TaskSpec.metric='f1' is not one of"),
       ('name: qa\ndata: pool.jsonl\nformat: csv\n', "TaskSpec.format='csv' is not one of"),
       ('name: qa\ndata: pool.jsonl\npromt_field: q\n', "unknown TaskSpec key(s) ['promt_field']"),
       ('name: qa\n', 'TaskSpec.data is required'),
       ('name: qa\ndata: nope.jsonl\n', "field 'data': "),
       ('name: qa\ndata: pool.jsonl\ntest: nope.jsonl\n', "field 'test': "),
       ('name: qa\ndata: pool.jsonl\nprompt_field: q\n', 'TaskSpec.prompt_field and TaskSpec.response_field'),
       ('name: qa\ndata: pool.jsonl\nmax_length: 0\n', 'TaskSpec.max_length must be a whole number > 0'),
       ('name: my qa\ndata: pool.jsonl\n', "TaskSpec.name='my qa'"),
       ('name: math\ndata: pool.jsonl\n', "field 'name': 'math' is a built-in task"),
       ('name: [qa\n', 'invalid YAML'),
       ('- name\n- data\n', 'expected a mapping of TaskSpec fields')]

@pytest.mark.parametrize('text,msg', BAD, ids=[m.split()[0] for _, m in BAD])
def test_bad_spec_names_file_and_field(tmp_path, qa, registry, text, msg):
    bad = tmp_path/'bad.yaml'; bad.write_text(text)
    with pytest.raises((ValueError, FileNotFoundError)) as e: register_spec(bad)
    assert msg in str(e.value) and str(bad) in str(e.value), str(e.value)

def test_same_name_from_two_files(tmp_path, qa, registry):
    register_spec(qa); register_spec(qa)  # the same file again: fine
    other = tmp_path/'other.yaml'; other.write_text(qa.read_text())
    with pytest.raises(ValueError, match=re.escape(f"field 'name': 'qa-test' is already registered from {qa}")):
        register_spec(other)

def test_user_task_through_make_splits_and_metric(qa, registry):
    task = register_spec(qa)
    assert issubclass(task, DataTask) and TASKS['qa-test'] is task and task.primary == 'exact_match'
    cfg = TaskConfig(name='qa-test', pool_size=30, probe_size=8, dev_select_size=2, dev_check_size=2)
    sp = make_splits(cfg)
    assert {k: len(v) for k, v in sp.items()} == dict(dev_select=2, dev_check=2, probe=8, pool=30, test=5)
    assert all(t.startswith('probe') for k in ('dev_select', 'dev_check', 'probe') for t in sp[k]['content'])
    assert all(t.startswith('pool') for t in sp['pool']['content'])  # the pool from `data`, the rest from `probe`
    assert len({i for k in ('dev_select', 'dev_check', 'probe') for i in sp[k]['id']}) == 12  # disjoint
    assert make_splits(cfg)['pool']['id'] == sp['pool']['id']  # seeded
    refs = sp['test']['references']
    preds = [r[0] for r in refs[:3]] + ['#### -1', 'no number']
    assert get_task(cfg).metric(preds, refs) == {'exact_match': 60.0}
    with pytest.raises(ValueError, match='qa-test: the probe split has 12 examples .*sizes that fit: '):
        make_splits(cfg.replace(probe_size=20))
    key = get_task(cfg).key()
    assert key['generic_tasks'] == BUILTIN and set(key['task_files']) == {'data', 'probe', 'test'}
    assert generic_text(cfg, n=6)['id'] == training_sample(cfg, BUILTIN, 6)['id']  # all the built-in tasks' text

def test_user_task_sizes_fit_each_file(qa, registry):
    "Sizes not asked shrink per file: the probe file's 12 rows hold the dev sets and the probe, `data` the pool."
    register_spec(qa)
    parse = lambda *o: task_config(data_args(argparse.ArgumentParser()).parse_args(['--task', 'qa-test', *o]))
    c = parse()
    assert (c.dev_select_size, c.dev_check_size, c.probe_size, c.pool_size) == (1, 1, 10, 40)
    assert parse('--pool-size', '25', '--dev-select-size', '2').probe_size == 9
    with pytest.raises(ValueError, match='sizes that fit: --dev-select-size 1 --dev-check-size 1 --probe-size 10'):
        parse('--probe-size', '12')

def test_env_specs_registered_in_a_fresh_process(tmp_path, qa):
    two = tmp_path/'two.yaml'
    two.write_text(qa.read_text().replace('qa-test', 'qa-two').replace('exact_match', 'rougeL'))
    code = ("import json; from igds.config import TaskConfig, TASKS; from igds.tasks import generic_tasks, get_task\n"
            "TaskConfig(name='qa-two')  # not a built-in: TASKS.load() imports igds.datatask, which reads the env\n"
            "print(json.dumps(dict(names=list(TASKS), generic=generic_tasks(), primary=get_task('qa-two').primary)))")
    env = {**os.environ, SPEC_ENV: f"{qa}{os.pathsep}{two}", 'HF_HUB_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got == dict(names=BUILTIN + ['qa-test', 'qa-two'], generic=BUILTIN, primary='rougeL')

def test_builtin_splits_and_keys_unchanged(qa, registry):
    "A built-in task's splits, generic text, recall and SAE keys are as before tasks by data, a user task registered."
    from igds.recall import recall_dir, _configs
    from igds.sae import data_key, trained_dir
    register_spec(qa)
    assert generic_tasks() == BUILTIN and generic_tasks('math') == BUILTIN[1:]
    splits = lambda **kw: stable_hash({k: list(v['id']) for k, v in make_splits(TaskConfig(**kw)).items()}, 16)
    small = dict(name='math', pool_size=100, probe_size=64, dev_select_size=16, dev_check_size=16, test_size=10)
    assert splits(**small) == 'e3ff701db95f5087'
    assert splits(**small, split_rule='v1') == 'abc09b66601318ab'
    tr = dict(name='translation', pool_size=50, probe_size=20, dev_select_size=8, dev_check_size=8, test_size=5)
    assert splits(**tr) == '701b5c013c85e67d'
    generic = generic_text(TaskConfig(name='summarization'), n=9)['instruction']
    assert stable_hash(list(generic), 16) == '9f39c169d8d90e57'
    m = ModelConfig(layer=3)
    math = recall_dir('runs', m, TaskConfig(name='math'), 'abc123', RecallConfig())
    assert str(math) == 'runs/smollm2-135m/math/recall-20eb6aee'
    assert str(recall_dir('runs', m, TaskConfig(name='translation', pool_size=100, probe_size=64), 'abc123',
                          RecallConfig(generic_size=16))) == 'runs/smollm2-135m/translation/recall-8d43c999'
    assert data_key() == '2dc47788'
    assert trained_dir('smollm2-135m', 3, SAEConfig()).name == 'smollm2-135m-L3-w8x-k32-t1000000-9cb87a27'
    user = _configs(m, TaskConfig(name='qa-test'), 'abc123', RecallConfig())  # a user task's key: its generic corpus
    assert user['generic_tasks'] == BUILTIN and user['task_spec']['data'] == 'pool.jsonl'
