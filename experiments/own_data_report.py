"""Issue 24's report on `igds run` with a user's own files: the committed Alpaca sample written as Alpaca JSONL,
ShareGPT JSON, chat-messages Parquet and CSV, each run through `igds run` (the first rows of each `selected.*` shown
against the input), then each kind of bad input with the error it gets.
    python experiments/own_data_report.py [--method longest] [--out runs/own-report] > figures/own_data/report.txt
"""
import argparse, csv, io, json, os, subprocess, sys
from pathlib import Path
import pandas as pd
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
IGDS = [sys.executable, '-m', 'igds.cli'] if not (ROOT/'.venv/bin/igds').exists() else [str(ROOT/'.venv/bin/igds')]
SAMPLE = ROOT/'data/own/alpaca_sample.jsonl'

def alpaca(): return [json.loads(l) for l in SAMPLE.read_text().splitlines()]

def write_formats(d:Path)->dict:
    "The sample in four layouts; the ids are written by the row order so the selections can be compared."
    rows, d = alpaca(), Path(d); d.mkdir(parents=True, exist_ok=True)
    prompt = lambda r: r['instruction'] + (f"\n\n{r['input']}" if r['input'] else '')
    f = dict(alpaca=d/'pool.jsonl', sharegpt=d/'pool_sharegpt.json', messages=d/'pool_messages.parquet', csv=d/'pool.csv')
    f['alpaca'].write_text(SAMPLE.read_text())
    conv = [dict(id=f'q{i}', conversations=[dict(**{'from': 'human'}, value=prompt(r)), dict(**{'from': 'gpt'}, value=r['output'])])
            for i, r in enumerate(rows)]
    f['sharegpt'].write_text(json.dumps(conv, indent=1, ensure_ascii=False))
    msgs = [dict(id=f'q{i}', messages=[dict(role='system', content='You are a careful assistant.'),
                                       dict(role='user', content=prompt(r)), dict(role='assistant', content=r['output'])])
            for i, r in enumerate(rows)]
    pd.DataFrame(msgs).to_parquet(f['messages'])
    pd.DataFrame([dict(question=prompt(r), answer=r['output']) for r in rows]).to_csv(f['csv'], index=False)
    return f

def igds(*args)->subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    return subprocess.run(IGDS + ['run', *map(str, args)], capture_output=True, text=True, env=env)

def head(path:Path, n:int=2)->str:
    "The first `n` rows of a file as stored (text files: their lines; Parquet: the records)."
    if path.suffix == '.parquet':
        return '\n'.join(json.dumps(r, ensure_ascii=False)[:300] for r in pq.read_table(path).slice(0, n).to_pylist())
    text = path.read_text()
    if path.suffix == '.csv':  # the parsed records: a field's newlines would cut a line-by-line view
        return '\n'.join(json.dumps(r, ensure_ascii=False)[:300] for r in list(csv.DictReader(io.StringIO(text)))[:n])
    if path.suffix == '.json': return text[:600]
    return '\n'.join(l[:300] for l in text.splitlines()[:n + (path.suffix == '.csv')])

def formats(out:Path, method:str):
    print(f"## igds run --method {method} on four layouts of data/own/alpaca_sample.jsonl (60 rows)\n")
    for name, path in write_formats(out/'inputs').items():
        extra = ['--prompt-field', 'question', '--response-field', 'answer'] if name == 'csv' else []
        r = igds('--data', path, '--method', method, '--out', out/name, '--force', *extra)
        print(f"### {name}: {path.name}\n$ igds run --data {path.name} --method {method} --out {name}/ {' '.join(extra)}")
        print(r.stdout.strip()[-800:] or r.stderr.strip()[-800:])
        sel = next((out/name).glob('selected.*'), None)
        if sel is None: print('no selected file'); continue
        print(f"input, first rows:\n{head(path)}\n{sel.name}, first rows:\n{head(sel)}\n")

BAD = {
    'unknown format': ('bad_unknown.jsonl', '{"question": "a", "reply": "b"}\n'),
    'mixed formats': ('bad_mixed.jsonl', '{"instruction": "a", "input": "", "output": "b"}\n'
                                         '{"prompt": "c", "response": "d"}\n'),
    'missing response': ('bad_missing.jsonl', '{"instruction": "a", "input": "", "output": "b"}\n'
                                              '{"instruction": "c", "input": ""}\n'),
    'empty response': ('bad_empty.jsonl', '{"instruction": "a", "input": "", "output": "  "}\n'),
    'duplicate ids': ('bad_dup.jsonl', '{"id": 7, "instruction": "a", "input": "", "output": "b"}\n'
                                       '{"id": 7, "instruction": "c", "input": "", "output": "d"}\n'),
    'not UTF-8': ('bad_latin1.jsonl', '{"instruction": "Gr\xfc\xdfe", "input": "", "output": "b"}\n'.encode('latin-1')),
    'malformed JSON': ('bad_json.jsonl', '{"instruction": "a", "input": "", "output": "b"}\n{"instruction": "c",\n'),
    'empty file': ('bad_emptyfile.jsonl', ''),
}

def bad_inputs(out:Path):
    print("## bad input: each file and the error `igds run --method random` prints\n")
    d = out/'bad'; d.mkdir(parents=True, exist_ok=True)
    for what, (name, data) in BAD.items():
        p = d/name; p.write_bytes(data if isinstance(data, bytes) else data.encode())
        r = igds('--data', p, '--method', 'random', '--out', d/(p.stem + '-out'), '--force')
        print(f"### {what} ({name}), exit status {r.returncode}\n{(r.stderr.strip() or r.stdout.strip())[-600:]}\n")
    r = igds('--data', SAMPLE, '--method', 'random', '--budget', '100', '--out', d/'budget-out', '--force')
    print(f"### budget larger than the pool (--budget 100 of 60 rows), exit status {r.returncode}\n{r.stderr.strip()[-600:]}\n")
    probe = d/'probe_overlap.jsonl'; probe.write_text(''.join(SAMPLE.read_text().splitlines(True)[:5]))
    r = igds('--data', SAMPLE, '--probe', probe, '--method', 'random', '--out', d/'probe-out', '--force')
    print(f"### a probe file that overlaps the pool (its 5 rows are pool rows), exit status {r.returncode}\n"
          f"{(r.stdout + r.stderr).strip()[-1500:]}\n")

if __name__ == '__main__':
    a = argparse.ArgumentParser(); a.add_argument('--method', default='longest'); a.add_argument('--out', default='runs/own-report')
    a = a.parse_args(); out = Path(a.out)
    formats(out, a.method); bad_inputs(out)
