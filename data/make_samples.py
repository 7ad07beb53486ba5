"""Cut the small task samples in data/ from a full copy of the data (the layout of ../shared/data).

    python data/make_samples.py ../shared/data

Keeps the first N_TRAIN rows of each training split and the first N_TEST rows of each test split, unchanged,
in the same file layout, so igds' local loader reads data/ exactly as it reads the full copy.
"""
import json, shutil, sys
from pathlib import Path

N_TRAIN, N_TEST = 2000, 300

def head_lines(src: Path, dst: Path, n: int):
    lines = src.read_text(encoding='utf-8').splitlines(keepends=True)[:n]
    dst.write_text(''.join(lines), encoding='utf-8')

def main(src_root: str, dst_root: str = str(Path(__file__).parent)):
    src, dst = Path(src_root), Path(dst_root)
    for sub in ('gsm8k', 'dialogsum', 'wmt-de-en'): (dst/sub).mkdir(parents=True, exist_ok=True)
    head_lines(src/'gsm8k/train.jsonl', dst/'gsm8k/train.jsonl', N_TRAIN)
    head_lines(src/'gsm8k/test.jsonl', dst/'gsm8k/test.jsonl', N_TEST)
    shutil.copy(src/'gsm8k/LICENSE', dst/'gsm8k/LICENSE')
    head_lines(src/'dialogsum/dialogsum.train.jsonl', dst/'dialogsum/dialogsum.train.jsonl', N_TRAIN)
    head_lines(src/'dialogsum/dialogsum.test.jsonl', dst/'dialogsum/dialogsum.test.jsonl', N_TEST)
    for l in ('de', 'en'): head_lines(src/f'wmt-de-en/train.de-en.{l}', dst/f'wmt-de-en/train.de-en.{l}', N_TRAIN)
    rows = json.loads((src/'wmt-de-en/test.de-en.json').read_text(encoding='utf-8'))[:N_TEST]
    (dst/'wmt-de-en/test.de-en.json').write_text(json.dumps(rows, ensure_ascii=False), encoding='utf-8')
    shutil.copy(src/'wmt-de-en/LICENSE', dst/'wmt-de-en/LICENSE')

if __name__ == '__main__': main(*sys.argv[1:])
