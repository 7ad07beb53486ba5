"""Run the course labs (nbs/labs/*.ipynb) with papermill and time them.

    python docs/run_labs.py                  # all labs in full, solutions filled in -> runs/labs/
    python docs/run_labs.py --lab 02         # one lab
    python docs/run_labs.py --student        # as handed out: exercises left blank
    python docs/run_labs.py --tiny           # the tiny setting of the tests (random model and SAE; seconds)

A lab's exercises are code cells tagged `exercise` (answers start as None); each is followed by a Markdown cell
holding its solution in a folded `<details>` block with one ```python fence. With solutions filled in (the default
here, and in the tests), the solution code replaces the exercise cell, so the check cells after it run their asserts.
"""
import argparse, json, re, resource, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT/'nbs'/'labs'
# The tiny setting: a random 4-layer model and a random SAE, a handful of examples (the test suite's papermill run)
TINY = dict(model='tiny-random', sae='random', probe_size=16, generic_size=16, n_candidates=8, dev_size=8, pool_size=16,
            n_prompts=1, max_new_tokens=8, max_length=512, finetune_demo=True, finetune_steps=1, n_eval=2)
_SOL = re.compile(r'<details[^>]*>.*?```python\n(.*?)```.*?</details>', re.S)

def labs(which=None)->list:
    "The lab notebooks, in order; `which`: a number or name fragment."
    out = sorted(p for p in LABS.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return [p for p in out if not which or p.stem.startswith(which) or which in p.stem]

def solution(cell)->str|None:
    "The solution code of a Markdown cell (None if it holds none)."
    if cell.cell_type != 'markdown': return None
    m = _SOL.search(cell.source)
    return m.group(1).strip() if m else None

def fill_solutions(nb)->int:
    "Replace each `exercise` cell by the solution that follows it; the number of exercises filled."
    n = 0
    for i, c in enumerate(nb.cells):
        if c.cell_type == 'code' and 'exercise' in c.metadata.get('tags', []):
            sol = next((solution(d) for d in nb.cells[i+1:i+3] if solution(d)), None)
            if sol is None: raise ValueError(f'exercise cell {i} has no <details> solution right after it:\n{c.source}')
            c.source = sol; n += 1
    return n

def errors(nb)->list:
    "Error outputs (and tracebacks printed to stderr) of an executed notebook."
    out = []
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error': out.append(f"cell {i}: {o.get('ename')}: {o.get('evalue')}")
            elif o.get('output_type') == 'stream' and o.get('name') == 'stderr' and 'Traceback' in o.get('text', ''):
                out.append(f'cell {i}: traceback on stderr')
    return out

def run_lab(path, out_dir, parameters=None, solved=True, kernel='python3')->dict:
    "Execute lab `path` with papermill into `out_dir`; its wall time, exercise count and errors."
    import nbformat, papermill as pm
    path, out_dir = Path(path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    known = pm.inspect_notebook(str(path))
    parameters = {k: v for k, v in (parameters or {}).items() if k in known}  # the tiny setting names every lab's knobs
    n = fill_solutions(nb) if solved else sum('exercise' in c.metadata.get('tags', []) for c in nb.cells)
    src = out_dir/f'{path.stem}.input.ipynb'
    nbformat.write(nb, src)
    dest = out_dir/f'{path.stem}.ipynb'
    t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    pm.execute_notebook(str(src), str(dest), parameters=parameters or {}, kernel_name=kernel, cwd=str(path.parent),
                        progress_bar=False, log_output=False)
    secs, c1 = time.time() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)  # the kernel's CPU time (a reaped child process)
    src.unlink()
    done = nbformat.read(dest, as_version=4)
    text = ''.join(o.get('text', '') for c in done.cells for o in c.get('outputs', []) if o.get('output_type') == 'stream')
    return dict(lab=path.stem, seconds=round(secs, 1), cpu_seconds=round(cpu, 1), exercises=n, correct=len(re.findall(r'Exercise \d+: correct', text)),
                not_answered=len(re.findall(r'Exercise \d+: not answered yet', text)), errors=errors(done),
                parameters=parameters or {}, solved=solved, output=str(dest))

def main(argv=None):
    ap = argparse.ArgumentParser(description='Run the igds course labs with papermill and time them.')
    ap.add_argument('--lab', default=None, help='run only the lab whose name starts with or contains this')
    ap.add_argument('--student', action='store_true', help='run as handed out (exercises blank) instead of solved')
    ap.add_argument('--tiny', action='store_true', help='the tiny setting of the tests (random model and SAE)')
    ap.add_argument('-p', nargs=2, action='append', default=[], metavar=('NAME', 'VALUE'),
                    help='a lab parameter (value parsed as JSON when it can be), e.g. -p pool_size 128')
    ap.add_argument('--out', default=str(ROOT/'runs'/'labs'), help='folder for the executed labs and timings.json')
    a = ap.parse_args(argv)
    params = dict(TINY) if a.tiny else {}
    for k, v in a.p:
        try: params[k] = json.loads(v)
        except json.JSONDecodeError: params[k] = v
    found = labs(a.lab)
    if not found: sys.exit(f'no lab matches {a.lab!r} in {LABS}')
    res, bad = [], False
    for p in found:
        print(f'running {p.name} ...', flush=True)
        try: r = run_lab(p, a.out, params, solved=not a.student)
        except Exception as e:  # papermill raises on the first failing cell; the executed notebook shows where
            r = dict(lab=p.stem, errors=[f'{type(e).__name__}: {str(e)[-2000:]}'], output=str(Path(a.out)/f'{p.stem}.ipynb'))
        res.append(r); bad |= bool(r['errors'])
        print(f"  {r['lab']}: {r.get('seconds', '-')} s wall, {r.get('cpu_seconds', '-')} s CPU, exercises {r.get('correct', 0)}/{r.get('exercises', '?')} correct, "
              f"errors: {r['errors'] or 'none'} -> {r['output']}", flush=True)
    Path(a.out, 'timings.json').write_text(json.dumps(res, indent=1))
    sys.exit(1 if bad else 0)

if __name__ == '__main__': main()
