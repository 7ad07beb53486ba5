"""Write data/own/alpaca_sample.jsonl: 60 rows of the committed task samples in data/, reformatted as Alpaca.

    python data/own/make_alpaca_sample.py

The first 20 training rows of GSM8K (the whole instruction in `instruction`, `input` empty), DialogSum and WMT de-en
(the task's request in `instruction`, the dialogue or German sentence in `input`), with the instruction texts of
igds.tasks, so each row reads as the same prompt as the built-in task's. No ids: igds numbers the rows.
"""
import json
from pathlib import Path

DATA, N = Path(__file__).resolve().parent.parent, 20

def lines(path: Path) -> list: return path.read_text(encoding='utf-8').splitlines()

def rows() -> list:
    math = [json.loads(l) for l in lines(DATA/'gsm8k/train.jsonl')[:N]]
    dlg = [json.loads(l) for l in lines(DATA/'dialogsum/dialogsum.train.jsonl')[:N]]
    de, en = lines(DATA/'wmt-de-en/train.de-en.de')[:N], lines(DATA/'wmt-de-en/train.de-en.en')[:N]
    ask = 'Solve the problem. Show your steps and end with "#### <number>".'
    return ([dict(instruction=f"{ask}\n\n{r['question']}", input='', output=r['answer']) for r in math]
            + [dict(instruction='Summarize the dialogue in one or two sentences.', input=r['dialogue'], output=r['summary'])
               for r in dlg]
            + [dict(instruction='Translate from German to English.', input=s, output=t) for s, t in zip(de, en)])

if __name__ == '__main__':
    out = Path(__file__).resolve().parent/'alpaca_sample.jsonl'
    out.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows()), encoding='utf-8')
