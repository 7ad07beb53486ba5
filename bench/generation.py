"""Greedy generation of the same test prompts at several batch sizes, measured side by side in one run.

    python bench/generation.py --model smollm2-135m --task math --n 32 --batches 8,16,32 --data-dir ../shared/data

`evaluate` generates the test split in batches of `EvalConfig.batch_size` (8 unless a preset says otherwise). Prints,
for each batch size, the wall time for all `n` prompts, prompts/s, new tokens/s, the speed ratio to the first batch
size (new tokens: those of the completions as kept, cut at the stop string), and the share of completions identical to the first batch size's (left padding can change a greedy completion).
"""
import argparse, time
import torch
from igds.models import load_model, generate
from igds.tasks import get_task, TaskConfig, format_prompt, stop_strings

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='smollm2-135m'); p.add_argument('--task', default='math')
    p.add_argument('--n', type=int, default=32); p.add_argument('--batches', default='8,16,32')
    p.add_argument('--max-new-tokens', type=int, default=None); p.add_argument('--data-dir', default=None)
    a = p.parse_args()
    model, tok = load_model(a.model)
    task = get_task(TaskConfig(name=a.task, data_dir=a.data_dir))
    exs = task.load('test', data_dir=a.data_dir).select(range(a.n))
    prompts = [format_prompt(tok, ex['instruction']) for ex in exs]
    m = a.max_new_tokens or task.max_new_tokens
    generate(model, tok, prompts[:2], max_new_tokens=8, batch_size=2, progress=False)  # warm-up
    rows = []
    for b in map(int, a.batches.split(',')):
        t0 = time.perf_counter()
        out = generate(model, tok, prompts, max_new_tokens=m, batch_size=b, stop=stop_strings(tok), progress=False)
        dt = time.perf_counter() - t0
        new = sum(len(tok(o, add_special_tokens=False).input_ids) for o in out)
        rows.append((b, dt, new, out))
    print(f'{a.model}, {a.task}: {a.n} test prompts, max_new_tokens {m}, torch threads {torch.get_num_threads()}')
    print(f"{'batch':>5} {'seconds':>8} {'prompts/s':>9} {'new tok/s':>9} {'speed vs first':>14} {'same output':>11}")
    b0, t0, _, out0 = rows[0]
    for b, dt, new, out in rows:
        same = sum(x == y for x, y in zip(out, out0))/len(out)
        print(f'{b:>5} {dt:>8.1f} {a.n/dt:>9.3f} {new/dt:>9.1f} {t0/dt:>14.2f} {same:>11.2f}')

if __name__ == '__main__': main()
