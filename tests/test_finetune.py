"Fine-tuning: a run killed mid-way resumes from its last checkpoint to the same adapter; data-parallel under accelerate."
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent('''
    import os, signal, sys
    from datasets import Dataset
    from transformers import TrainerCallback
    from igds.config import FinetuneConfig
    from igds.finetune import finetune
    from igds.models import load_model
    out, kill_at = sys.argv[1], int(sys.argv[2])
    class Kill(TrainerCallback):
        "SIGKILL this process right after checkpoint `kill_at` is written (no clean-up runs)."
        def on_save(self, args, state, control, **kw):
            if state.global_step == kill_at: os.kill(os.getpid(), signal.SIGKILL)
    n = 16
    ds = Dataset.from_dict(dict(id=[f'q{i}' for i in range(n)], instruction=[f'What is {i} plus {i+1}?' for i in range(n)],
                                response=[f'{i} + {i+1} = {2*i+1}. #### {2*i+1}' for i in range(n)],
                                references=[[str(2*i+1)] for i in range(n)]))
    tm, tk = load_model('tiny-random')
    cfg = FinetuneConfig(micro_batch=2, effective_batch=4, lr=3e-3)
    finetune(tm, tk, ds, cfg, out, save_every=1, callbacks=[Kill()] if kill_at else [], progress=False)
''')

def _run(*args, timeout=300):
    env = dict(os.environ, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false', OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, '-c', SCRIPT, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)

def test_killed_run_resumes_to_the_same_adapter(tmp_path):
    killed, clean = tmp_path/'killed', tmp_path/'clean'
    r = _run(killed, 2)
    assert r.returncode == -9, r.stderr[-2000:]  # died by SIGKILL
    assert not (killed/'finetune.json').exists() and not (killed/'adapter').exists()
    assert (killed/'checkpoints'/'checkpoint-2').is_dir()
    r = _run(killed, 0); assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads((killed/'finetune.json').read_text())
    assert info['resumed_from'].endswith('checkpoint-2') and info['steps'] == 4
    assert not (killed/'checkpoints').exists()
    r = _run(clean, 0); assert r.returncode == 0, r.stderr[-2000:]
    full = json.loads((clean/'finetune.json').read_text())
    # the recorded loss covers every step, those before the kill included, and matches the uninterrupted run
    assert len(info['losses']) == 4 and abs(info['train_loss'] - sum(info['losses'])/4) < 1e-9
    assert abs(info['train_loss'] - full['train_loss']) < 1e-4, (info['train_loss'], full['train_loss'])
    a, b = (load_file(d/'adapter'/'adapter_model.safetensors') for d in (killed, clean))
    assert a.keys() == b.keys() and len(a) > 0
    for k in a: torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    init = _lora_b_zero(a)
    assert not init, f"LoRA B matrices still zero after training: {init[:3]}"

def test_checkpoint_cut_short_by_the_kill_is_skipped(tmp_path):
    "A kill while checkpoint 3 was being written (its trainer_state.json, written last, missing): resume from 2."
    torn, clean = tmp_path/'torn', tmp_path/'clean'
    r = _run(torn, 3); assert r.returncode == -9, r.stderr[-2000:]
    ck = torn/'checkpoints'
    assert (ck/'checkpoint-2'/'trainer_state.json').exists()
    (ck/'checkpoint-3'/'trainer_state.json').unlink()
    r = _run(torn, 0); assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads((torn/'finetune.json').read_text())
    assert info['resumed_from'].endswith('checkpoint-2') and info['steps'] == 4, info['resumed_from']
    r = _run(clean, 0); assert r.returncode == 0, r.stderr[-2000:]
    a, b = (load_file(d/'adapter'/'adapter_model.safetensors') for d in (torn, clean))
    for k in a: torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)

def _lora_b_zero(sd): return [k for k, v in sd.items() if 'lora_B' in k and v.abs().max() == 0]

def test_accelerate_two_processes(tmp_path):
    """The same command runs data-parallel under `accelerate launch` with 2 CPU processes (gloo).
    In accelerate 1.15 `--cpu --num_processes 2` starts ONE process (multi-CPU goes through mpirun); `--multi_gpu` on a
    machine without a GPU starts 2 processes with torchrun, and each trains on the CPU."""
    acc = Path(sys.executable).parent/'accelerate'
    env = dict(os.environ, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false', OMP_NUM_THREADS='1')
    if torch.cuda.is_available(): pytest.skip('this test shows the CPU-only launch')
    cmd = [str(acc), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', str(Path(sys.executable).parent/'igds'), 'finetune', '--model', 'tiny-random', '--pool-size', '16',
           '--micro-batch', '2', '--effective-batch', '8', '--max-length', '256', '--out', str(tmp_path/'ddp')]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    info = json.loads((tmp_path/'ddp'/'finetune.json').read_text())
    assert info['processes'] == 2
    assert info['steps'] == 2  # 16 examples / effective batch 8 (= 2 processes x 2 micro-batches x 2 examples)
    assert (tmp_path/'ddp'/'adapter'/'adapter_model.safetensors').exists()

def test_selection_round_trip_keeps_the_task(tmp_path):
    "`igds finetune --selection` rebuilds the pool that `write_selection` selected from (its task, sizes and seed)."
    from igds.config import TaskConfig, SelectConfig
    from igds.tasks import make_splits
    from igds.select import write_selection
    from igds.baselines import Random
    from igds.finetune import selection_ids, subset
    tcfg = TaskConfig(name='translation', pool_size=20, probe_size=8, dev_select_size=4, dev_check_size=4, seed=3)
    pool = make_splits(tcfg)['pool']; sel = Random(1); ids = sel.select(pool, 0.5)
    settings = dict(select=SelectConfig(method='random').to_dict(), model='tiny-random', task=tcfg.to_dict())
    write_selection(tmp_path, sel, pool, ids, sel.details(pool), settings)
    got, t = selection_ids(tmp_path/'selection.json')
    assert (got, t) == (ids, tcfg)
    assert sorted(subset(make_splits(t)['pool'], got)['id']) == sorted(ids)

def _transformers4_args():
    "transformers 4's `TrainingArguments` as far as warm-up goes: `warmup_steps` a count, the share in `warmup_ratio`."
    import math
    from dataclasses import dataclass
    from transformers import TrainingArguments
    @dataclass
    class Args4(TrainingArguments):
        warmup_ratio:float = 0.0
        def get_warmup_steps(self, n:int):
            return self.warmup_steps if self.warmup_steps > 0 else math.ceil(n*self.warmup_ratio)
    return Args4

@pytest.mark.parametrize('v4', [False, True])
def test_warmup_is_a_share_of_the_optimizer_steps(v4, tmp_path, monkeypatch):
    "3 % warm-up of 100 optimizer steps is 3 steps (not 0.03) under transformers 5 and 4 alike; the schedule follows."
    import transformers
    from transformers import get_scheduler
    from igds.config import FinetuneConfig
    from igds.finetune import training_args
    if v4: monkeypatch.setattr(transformers, 'TrainingArguments', _transformers4_args())
    a = training_args(FinetuneConfig(warmup_ratio=0.03), tmp_path)
    assert [a.get_warmup_steps(n) for n in (100, 33, 34)] == [3, 1, 2]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sch = get_scheduler('cosine', opt, num_warmup_steps=a.get_warmup_steps(100), num_training_steps=100)
    lrs = []
    for _ in range(5): lrs.append(opt.param_groups[0]['lr']); opt.step(); sch.step()
    assert lrs[:4] == pytest.approx([0, 1/3, 2/3, 1.0]) and lrs[4] < 1.0
