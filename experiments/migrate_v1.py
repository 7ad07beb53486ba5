"""One-off migration (issue 23): the committed IGDS-family cells made with the first instrument become `igds-v1*`.

In every `<results>/<model>/<task>/` folder: `igds[-<ablation>]-b<budget>-s<seed>.json` and its `.examples.json` are
renamed with `git mv` to `igds-v1[-<ablation>]-b<budget>-s<seed>...`, with `cell.method` inside both set to the new
name; the task's `features.json` and `stability.json` become `features-v1.json` and `stability-v1.json`. A cell is the
first instrument's when its FRS counted every token class (`provenance.select` names no `classes`, or all of them, as
the legacy `span: all` does); a `features.json` when its filter settings name no token classes (or all of them).
Idempotent: cells and features of the new instrument, and files already renamed, are left alone; a second run changes
nothing. Only the names and the method field change: each file is rewritten by `save_json`, checked first to reproduce
the file's bytes unchanged.

    PYTHONPATH=$PWD python experiments/migrate_v1.py [--results figures/results] [--dry]
"""
import argparse, json, re, subprocess
from pathlib import Path
from igds.config import TOKEN_CLASSES, as_classes, load_json, save_json

CELL = re.compile(r'^(igds(?:-(?!v1\b)[a-z0-9]+)?)(-b[0-9.]+-s[0-9]+)\.json$')  # igds-*, not igds-v1-*

def all_classes(settings:dict, where:str)->bool:
    "Whether `settings` count every token class (no `classes` and no `span`: the first instrument, which had neither)."
    v = settings.get('classes', settings.get('span', 'all'))
    return as_classes(v, where) == TOKEN_CLASSES

def is_v1_cell(result:dict, path:Path)->bool:
    "Whether a cell result was made by the first instrument (its FRS counted every token class)."
    sel = result.get('provenance', {}).get('select')
    if sel is None: raise ValueError(f"{path}: no provenance.select, so its instrument is unknown")
    return all_classes(sel, f'{path}: provenance.select.classes')

def is_v1_features(features:dict, path:Path)->bool:
    "Whether a task's `features.json` was made by the first instrument (its filter amplified on every token class)."
    return all_classes(features.get('settings', {}).get('filter', {}), f'{path}: settings.filter.classes')

def rewrite_method(path:Path, method:str):
    "Set `cell.method` in the JSON file at `path`, leaving every other byte as it was."
    d = load_json(path)
    if json.dumps(d, indent=1, default=str) + '\n' != path.read_text():
        raise ValueError(f"{path}: save_json would not reproduce it byte for byte; a rewrite would change more")
    if d['cell']['method'] != method: save_json(dict(d, cell=dict(d['cell'], method=method)), path)

def git_mv(src:Path, dst:Path, dry:bool, echo=print):
    echo(f'{src} -> {dst.name}')
    if dry: return
    if dst.exists(): raise FileExistsError(f"{dst}: exists already, so {src} cannot take its name")
    subprocess.run(['git', 'mv', str(src), str(dst)], check=True)

def migrate(results='figures/results', dry:bool=False, echo=print)->list:
    "Rename the first instrument's IGDS-family cells and task features under `results`; the (old, new) paths moved."
    moved = []
    for f in sorted(Path(results).glob('*/*/*.json')):
        if not (m := CELL.match(f.name)) or not is_v1_cell(load_json(f), f): continue
        new = m[1].replace('igds', 'igds-v1', 1)
        for src in (f, f.with_name(f.stem + '.examples.json')):
            if not src.exists(): continue
            dst = src.with_name(src.name.replace(m[1], new, 1))
            git_mv(src, dst, dry, echo); moved.append((src, dst))
            if not dry: rewrite_method(dst, new)
    for f in sorted(Path(results).glob('*/*/features.json')):
        if (f.parent/'features-v1.json').exists() or not is_v1_features(load_json(f), f): continue
        for name in ('features', 'stability'):  # the stability of the same instrument's F*, made with it
            src, dst = f.parent/f'{name}.json', f.parent/f'{name}-v1.json'
            if src.exists() and not dst.exists(): git_mv(src, dst, dry, echo); moved.append((src, dst))
    return moved

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--results', default='figures/results', help='folder of per-cell results')
    p.add_argument('--dry', action='store_true', help='list what would move, change nothing')
    a = p.parse_args()
    print(f'{len(migrate(a.results, a.dry))} files ' + ('would be moved' if a.dry else 'moved'))
