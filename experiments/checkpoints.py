"""Carry a long grid run's once-per-task stages across machines that lose `runs/`.

A cpu-small task spends about 40 minutes before its first cell can fine-tune (the base model's test generations, recall,
the filter's Δ per feature, stability). Those stages are cached under `runs/<model>/<task>/` and resume from their
partial files, but `runs/` is not kept between sessions. This script copies the small files of those caches (not the
cell folders, which hold adapters) into `experiments/checkpoints/` and commits exactly that folder, and copies them back
before a run. The grid then resumes each stage where it stopped: nothing here changes what is computed.

    python experiments/checkpoints.py restore            # before `igds grid`
    python experiments/checkpoints.py save [--commit]    # now and then while it runs (and at the end of a session)
    python experiments/checkpoints.py watch --every 600  # save --commit every 10 minutes until killed
"""
import argparse, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The once-per-task caches (files or folders). Recall is left out: its activation statistics are about 15 MB a task and
# take about 10 minutes to recompute, and its result is deterministic, so the filter's cached Δ still match it.
STAGES = ('base-*', 'filter-*', 'stability-*')
MAX_BYTES = 2_000_000  # a larger file is recomputed rather than committed


def stage_files(runs: Path) -> list:
    "Files of the once-per-task stage caches under `runs/<model>/<task>/`, relative to `runs`."
    out = []
    for task_dir in sorted(p for p in runs.glob('*/*') if p.is_dir()):
        for pat in STAGES:
            for p in sorted(task_dir.glob(pat)):
                files = [p] if p.is_file() else sorted(q for q in p.rglob('*') if q.is_file())
                out += [q.relative_to(runs) for q in files if q.stat().st_size <= MAX_BYTES]
    return out


def copy_new(src: Path, dst: Path, rel: list) -> list:
    "Copy each of `rel` from `src` to `dst` where the copy is missing or differs in size or is older; the copied ones."
    done = []
    for r in rel:
        a, b = src/r, dst/r
        if b.exists() and b.stat().st_size == a.stat().st_size and b.stat().st_mtime >= a.stat().st_mtime: continue
        b.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(a, b); done.append(r)
    return done


def save(runs: Path, store: Path, commit: bool) -> int:
    "Copy the stage files into the store; commit the store alone when asked. The number of files copied."
    done = copy_new(runs, store, stage_files(runs))
    if done and commit:
        rel = str(store.relative_to(ROOT))
        subprocess.run(['git', 'add', '--', rel], cwd=ROOT, check=True)
        subprocess.run(['git', 'commit', '-q', '-m', f'checkpoints: {len(done)} stage files of the running grid', '--', rel],
                       cwd=ROOT, check=False)
    return len(done)


def restore(runs: Path, store: Path) -> int:
    "Copy the stored stage files back into `runs/` where they are missing; the number copied."
    rel = [p.relative_to(store) for p in sorted(store.rglob('*')) if p.is_file()]
    missing = [r for r in rel if not (runs/r).exists()]
    return len(copy_new(store, runs, missing))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('action', choices=('save', 'restore', 'watch'))
    p.add_argument('--runs', type=Path, default=ROOT/'runs', help='the grid\'s run folder')
    p.add_argument('--store', type=Path, default=ROOT/'experiments'/'checkpoints', help='the committed copy')
    p.add_argument('--commit', action='store_true', help='git-commit the store after saving (watch always commits)')
    p.add_argument('--every', type=float, default=600, help='seconds between saves of `watch`')
    a = p.parse_args(argv)
    if a.action == 'restore': print(f'restored {restore(a.runs, a.store)} stage files into {a.runs}'); return
    while True:
        n = save(a.runs, a.store, a.commit or a.action == 'watch')
        print(time.strftime('%H:%M:%S'), f'saved {n} stage files to {a.store}', flush=True)
        if a.action == 'save': return
        time.sleep(a.every)


if __name__ == '__main__':
    sys.exit(main())
