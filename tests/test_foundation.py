"Bad input to the foundation (models, tasks, CLI): each error names what is wrong, and no partial output is left."
import json, os, time
from pathlib import Path
import pytest
from igds.cli import main
from igds.config import ModelConfig, TaskConfig, atomic_write
from igds.models import load_model, get_spec, model_source
from igds.tasks import get_task, make_splits

def _math_dir(tmp_path, train:str, test:str='{"question": "q", "answer": "#### 1"}\n'):
    d = tmp_path/'data'/'gsm8k'; d.mkdir(parents=True)
    (d/'train.jsonl').write_text(train); (d/'test.jsonl').write_text(test)
    return tmp_path/'data'

def test_malformed_jsonl_names_file_and_line(tmp_path):
    d = _math_dir(tmp_path, '{"question": "q", "answer": "#### 1"}\n{"question": "q", "answer": \n')
    with pytest.raises(ValueError, match=r'gsm8k/train.jsonl:2: invalid JSON'): get_task('math').load('train', 'local', d)

def test_missing_field_is_named(tmp_path):
    d = _math_dir(tmp_path, '{"question": "q", "answer": "#### 1"}\n{"question": "q2"}\n')
    with pytest.raises(ValueError, match=r"train.jsonl:2: missing field 'answer'"): get_task('math').load('train', 'local', d)

def test_missing_translation_field(tmp_path):
    d = tmp_path/'wmt-de-en'; d.mkdir()
    (d/'test.de-en.json').write_text(json.dumps([{"translation": {"de": "Hallo", "en": "Hello"}}, {"translation": {"de": "x"}}]))
    with pytest.raises(ValueError, match=r"test.de-en.json: row 1: missing field 'translation.en'"):
        get_task('translation').load('test', 'local', tmp_path)

def test_unknown_names_list_known_ones():
    with pytest.raises(ValueError, match=r"known models are \['gemma-2-2b', 'gemma3-270m'"): get_spec('gpt-5')
    with pytest.raises(ValueError, match=r"known tasks are \['math', 'summarization', 'translation'\]"): get_task('poetry')
    with pytest.raises(ValueError, match=r"TaskConfig.name='poetry' is not one of"): TaskConfig(name='poetry')

def test_layer_out_of_range_says_depth():
    with pytest.raises(ValueError, match=r'layer 9 is out of range: .* has 4 layers \(0..3\)'):
        load_model(ModelConfig(name='tiny-random', layer=9))

def test_empty_split(tmp_path):
    d = _math_dir(tmp_path, '\n\n')
    with pytest.raises(ValueError, match=r"math split 'train' from .* is empty"): get_task('math').load('train', 'local', d)

def test_data_dir_missing():
    with pytest.raises(FileNotFoundError, match='data dir /nonexistent/x does not exist'):
        make_splits(TaskConfig(data_dir='/nonexistent/x'))

def test_splits_larger_than_train(tmp_path):
    d = _math_dir(tmp_path, '{"question": "q", "answer": "#### 1"}\n'*10)
    with pytest.raises(ValueError, match='the training split has 10 examples but the splits ask for'):
        make_splits(TaskConfig(data_dir=str(d), pool_size=8, probe_size=4, dev_select_size=1, dev_check_size=1))

def test_hub_only_model_fails_fast_offline(monkeypatch, tmp_path):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1'); monkeypatch.setenv('HF_HOME', str(tmp_path))
    t0 = time.time()
    with pytest.raises(RuntimeError, match=r'qwen3-8b \(Qwen/Qwen3-8B-Base\) is not in the local Hugging Face cache.*huggingface-cli download'):
        model_source('qwen3-8b')
    assert time.time() - t0 < 5

def test_cli_error_leaves_no_output(tmp_path, capsys):
    out = tmp_path/'out'
    rc = main(['evaluate', '--model', 'tiny-random', '--task', 'math', '--data-dir', str(tmp_path/'nope'), '--out', str(out)])
    assert rc == 1 and not out.exists()
    assert 'does not exist' in capsys.readouterr().err

def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path/'x.json'
    with pytest.raises(TypeError): atomic_write(target, object())
    assert list(tmp_path.iterdir()) == []

def test_evaluate_writes_results(tmp_path):
    main(['evaluate', '--model', 'tiny-random', '--task', 'translation', '--limit', '3', '--max-new-tokens', '4', '--out', str(tmp_path)])
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert set(m['metrics']) >= {'bleu', 'chrf', 'ref_nll', 'n'} and m['metrics']['n'] == 3
    assert len((tmp_path/'outputs.jsonl').read_text().splitlines()) == 3
    assert m['versions']['torch'] and m['task']['name'] == 'translation'

def _base_tokenizer():
    "The tiny tokenizer as a base model's: no chat template, a BOS added by `add_special_tokens`."
    from tokenizers.processors import TemplateProcessing
    from igds.models import tiny_tokenizer
    tk = tiny_tokenizer(); tk.chat_template = None
    bos = (tk.bos_token, tk.bos_token_id)
    tk.backend_tokenizer.post_processor = TemplateProcessing(single=f'{bos[0]} $A', special_tokens=[bos])
    return tk

@pytest.mark.parametrize('chat', [False, True])
def test_generation_prompts_are_tokenized_like_training(chat, monkeypatch):
    "evaluate and task_score give `generate` the prompt ids `encode` trains and scores with (a base model's BOS too)."
    from igds.models import tiny_model, tiny_tokenizer
    from igds.tasks import encode
    from igds.evaluate import evaluate
    from igds.intervene import task_score
    from igds.config import EvalConfig
    tk = tiny_tokenizer() if chat else _base_tokenizer(); tm = tiny_model(tk)
    if not chat: assert tk('x').input_ids[0] == tk.bos_token_id
    task = get_task('translation'); exs = list(task.load('test').select(range(3)))
    want = sorted(tuple(t for t, s in zip(e['input_ids'], e['span']) if s == 0) for e in (encode(tk, ex) for ex in exs))
    fed, gen = [], tm.generate
    def spy(**kw):
        fed.extend(tuple(r[m.bool()].tolist()) for r, m in zip(kw['input_ids'], kw['attention_mask'])); return gen(**kw)
    monkeypatch.setattr(tm, 'generate', spy)
    evaluate(tm, tk, task, exs, EvalConfig(max_new_tokens=2, nll=False), progress=False)
    assert sorted(fed) == want
    fed.clear(); task_score(tm, tk, task, exs, layer=1, max_new_tokens=2)
    assert sorted(fed) == want

def _old_splits(cfg:TaskConfig)->dict:
    "The split rule before `split_rule`: one seeded permutation cut in a row into dev_select, dev_check, probe, pool."
    train = get_task(cfg).load('train', cfg.source, cfg.data_dir)
    perm, out, s = __import__('numpy').random.default_rng(cfg.seed).permutation(len(train)), {}, 0
    for name in ('dev_select', 'dev_check', 'probe', 'pool'):
        n = getattr(cfg, f'{name}_size'); out[name] = list(train.select(perm[s:s+n])['id']); s += n
    return out

SIZES = [dict(pool_size=300, probe_size=100, dev_select_size=32, dev_check_size=16),
         dict(pool_size=300, probe_size=50, dev_select_size=8, dev_check_size=40), dict(pool_size=120, probe_size=0)]

@pytest.mark.parametrize('task', ['math', 'summarization', 'translation'])
@pytest.mark.parametrize('seed', [0, 3])
def test_split_rules(task, seed):
    "v1 is the old slicing; v2 moves only the pool, which depends on seed and pool size alone; disjoint; sizes right."
    names = ('dev_select', 'dev_check', 'probe', 'pool')
    pools = {}
    for sz in SIZES:
        for rule in ('v1', 'v2'):
            cfg = TaskConfig(name=task, seed=seed, split_rule=rule, test_size=5, **sz)
            sp = {k: list(v['id']) for k, v in make_splits(cfg).items()}
            assert [len(sp[k]) for k in names] == [getattr(cfg, f'{k}_size') for k in names] and len(sp['test']) == 5
            assert len(set().union(*(sp[k] for k in names))) == sum(len(sp[k]) for k in names)  # disjoint
            old = _old_splits(cfg)
            if rule == 'v1': assert {k: sp[k] for k in names} == old
            else: pools.setdefault(cfg.pool_size, []).append(sp['pool'])
            assert {k: sp[k] for k in names[:3]} == {k: old[k] for k in names[:3]}  # the same dev sets and probe
    assert all(p == ps[0] for ps in pools.values() for p in ps) and len(pools[300]) == 2
    assert pools[120] == [pools[300][0][:120]]  # a smaller pool is the start of a larger one

def test_split_rule_of_saved_configs():
    "A config saved before `split_rule` existed reads as v1, and a v1 config saves and hashes as it did then."
    old = dict(name='math', source='auto', data_dir=None, pool_size=1000, probe_size=512, dev_select_size=64,
               dev_check_size=64, test_size=None, seed=0, src_lang='de', tgt_lang='en')
    v1 = TaskConfig.from_dict(old)
    assert v1.split_rule == 'v1' and TaskConfig().split_rule == 'v2'
    assert v1.to_dict() == old and v1.split_key() == {k: v for k, v in old.items() if k != 'test_size'}
    assert TaskConfig.from_dict(TaskConfig().to_dict()) == TaskConfig() and TaskConfig.from_dict(v1.to_dict()) == v1

def test_registry_loads_the_model_each_sae_was_trained_on():
    "Every registry entry with a public SAE loads the model sae-lens' directory says that SAE was trained on."
    import yaml, sae_lens
    from igds.models import REGISTRY, SAE_TRAINED_ON
    text = (Path(sae_lens.__file__).parent/'pretrained_saes.yaml').read_text()
    directory = yaml.load(text, getattr(yaml, 'CSafeLoader', yaml.SafeLoader))
    for release, hub in SAE_TRAINED_ON.items():
        e = directory[release]  # the model's Hub id, or (Gemma Scope) its TransformerLens name and a link to its page
        link = (e.get('links') or {}).get('model', '').removeprefix('https://huggingface.co/')
        assert hub in (e['model'], link), release
    with_sae = [s for s in REGISTRY.values() if s.sae_release]
    assert with_sae and [s.name for s in with_sae if s.hub_id != SAE_TRAINED_ON[s.sae_release]] == []
