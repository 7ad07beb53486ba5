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
