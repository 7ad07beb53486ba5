"""Write data/own/alpaca_sample.jsonl: 60 rows of the committed task samples in data/, reformatted as Alpaca, and
data/own/alpaca_test.jsonl: 30 test rows of them (the test set of the task spec data/own/alpaca_task.yaml).

    python data/own/make_alpaca_sample.py

The first 20 training rows of GSM8K (the whole instruction in `instruction`, `input` empty), DialogSum and WMT de-en
(the task's request in `instruction`, the dialogue or German sentence in `input`), with the instruction texts of
igds.tasks, so each row reads as the same prompt as the built-in task's. No ids: igds numbers the rows. The test
file takes the first 10 test rows of each task the same way.
"""
import json
from pathlib import Path

DATA, N, N_TEST = Path(__file__).resolve().parent.parent, 20, 10

def lines(path: Path) -> list: return path.read_text(encoding='utf-8').splitlines()

def rows(split: str = 'train', n: int = N) -> list:
    math = [json.loads(l) for l in lines(DATA/f'gsm8k/{split}.jsonl')[:n]]
    dlg = [json.loads(l) for l in lines(DATA/f'dialogsum/dialogsum.{split}.jsonl')[:n]]
    if split == 'train': de, en = lines(DATA/'wmt-de-en/train.de-en.de')[:n], lines(DATA/'wmt-de-en/train.de-en.en')[:n]
    else:
        test = json.loads((DATA/'wmt-de-en/test.de-en.json').read_text(encoding='utf-8'))
        pairs = [r['translation'] for r in test[:n]]
        de, en = [p['de'] for p in pairs], [p['en'] for p in pairs]
    ask = 'Solve the problem. Show your steps and end with "#### <number>".'
    return ([dict(instruction=f"{ask}\n\n{r['question']}", input='', output=r['answer']) for r in math]
            + [dict(instruction='Summarize the dialogue in one or two sentences.', input=r['dialogue'],
                    output=r.get('summary') or r['summary1'])
               for r in dlg]
            + [dict(instruction='Translate from German to English.', input=s, output=t) for s, t in zip(de, en)])

def write(name: str, rs: list):
    (Path(__file__).resolve().parent/name).write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rs),
                                                      encoding='utf-8')

if __name__ == '__main__':
    write('alpaca_sample.jsonl', rows())
    write('alpaca_test.jsonl', rows('test', N_TEST))
