"""Plant wrong implementations of the method in `igds/*.py`, one at a time, and check that the tests catch each one
(`make mutants`; not a pytest file).

Each mutant is a text substitution in one module whose pattern must occur exactly once (otherwise the script stops and
says "pattern not found", so that a refactor fails loudly instead of passing silently). The module is backed up, edited
in place, and restored afterwards, on an error or Ctrl-C too; a backup left by a killed run is restored at the next
start. Only the relevant tests run (`pytest -x -q` on chosen files and `-k` expressions, with a timeout), with this
checkout first on PYTHONPATH and no bytecode written. The last line is `K of N mutants killed`; the exit status is 0
only when every mutant is killed."""
import argparse, os, shutil, signal, subprocess, sys, time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT/'igds'
BACKUP = '.mutant-backup'

@dataclass(frozen=True)
class Mutant:
    name:str    # short id
    what:str    # the wrong method it plants
    module:str  # file under igds/
    old:str     # text found exactly once in `module`
    new:str     # what replaces it
    tests:tuple # test files to run
    k:str=''    # pytest -k expression ('' = every test of those files)

MUTANTS = [
    Mutant('frs-all-columns', "the FRS sums every SAE latent instead of F*'s", 'select.py',
           'encode_features(self.sae, h, self.cols, self.W)',
           'encode_features(self.sae, h, range(self.sae.cfg.d_sae)).sum(-1, keepdim=True).expand(-1, -1, len(self.cols))',
           ('tests/test_select.py',), 'frs_equals_full_encode'),
    Mutant('zip-no-stage-2', 'ZIP without stage 2 (no ratio with the selected set)', 'baselines.py',
           'state[c1] = [sel.ratio_with(texts[i]) for i in c1]', 'pass', ('tests/test_baselines.py',), 'zip'),
    Mutant('ifd-inverted', 'IFD as CE(response alone) / CE(response | prompt)', 'baselines.py',
           'score=c/a', 'score=a/c', ('tests/test_baselines.py',), 'ifd'),
    Mutant('recall-contrast-flipped', 'recall ranks by generic minus task frequency', 'recall.py',
           'score = freq_task - freq_generic', 'score = freq_generic - freq_task', ('tests/test_recall.py',), 'rank'),
    Mutant('keep-below-tau', 'the keep rule keeps Δ < τ', 'intervene.py',
           "positive=bool(s['delta'] > cfg.tau)", "positive=bool(s['delta'] < cfg.tau)", ('tests/test_intervene.py',), 'keep'),
    Mutant('keep-ignores-null', "the keep rule lets every feature past the null's quantile", 'intervene.py',
           "null=bool(s['delta'] > null_q)", 'null=True', ('tests/test_intervene.py',), 'keep or null'),
    Mutant('frs-counts-template', 'the FRS counts the template tokens too', 'select.py',
           'ix = [TOKEN_CLASSES.index(c) for c in as_classes(self.cfg.classes if classes is None else classes)]',
           'ix = [0, 1, 2]', ('tests/test_select.py',), 'options_change or full_encode'),
    Mutant('labels-off-by-one', 'the SFT labels start one token before the response', 'finetune.py',
           "zip(e['input_ids'], e['span'])", "zip(e['input_ids'], e['span'][1:] + [1])", ('tests/test_tasks.py',), 'sft'),
    Mutant('exact-match-strings', 'exact match compares the number strings, not their values', 'metrics.py',
           'return abs(f(a) - f(b)) < 1e-6', 'return a == b', ('tests/test_tasks.py',), 'exact_match'),
]

def restore_leftovers():
    "Put back any module a killed run left mutated (its backup is still there)."
    for b in PKG.glob(f'*.py{BACKUP}'):
        shutil.copy2(b, b.with_name(b.name[:-len(BACKUP)])); b.unlink()
        print(f'restored {b.name[:-len(BACKUP)]} from the backup a killed run left')

def check_patterns(mutants)->list:
    "Errors for every pattern not found exactly once."
    errs = []
    for m in mutants:
        n = (PKG/m.module).read_text(encoding='utf-8').count(m.old)
        if n != 1: errs.append(f"{m.name}: pattern {'not found' if n == 0 else f'found {n} times'} in igds/{m.module}: {m.old!r}")
    return errs

def pytest_cmd(files, k:str)->list:
    return [sys.executable, '-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider', *files] + (['-k', k] if k else [])

def run_tests(files, k:str, timeout:int)->tuple:
    "(return code, seconds, last lines of the output); return code None on a timeout."
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep),
               PYTHONDONTWRITEBYTECODE='1', HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false',
               OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
    t0 = time.time()
    p = subprocess.Popen(pytest_cmd(files, k), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try: out, _ = p.communicate(timeout=timeout); rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); out, _ = p.communicate(); rc = None
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL); p.wait(); raise
    return rc, time.time() - t0, '\n'.join(out.strip().splitlines()[-3:])

def mutate_and_test(m:Mutant, timeout:int)->tuple:
    "Plant `m`, run its tests, restore the module; (verdict, seconds, output tail)."
    path = PKG/m.module; backup = path.with_name(path.name + BACKUP)
    text = path.read_text(encoding='utf-8')
    if text.count(m.old) != 1: return 'pattern not found', 0.0, f'{m.old!r} in igds/{m.module}'
    shutil.copy2(path, backup)
    try:
        path.write_text(text.replace(m.old, m.new), encoding='utf-8')
        rc, secs, tail = run_tests(m.tests, m.k, timeout)
    finally:
        shutil.copy2(backup, path); backup.unlink()  # the original bytes and mtime
    verdict = {None: 'killed (timeout)', 0: 'SURVIVED', 1: 'killed', 5: 'no test selected'}.get(rc, f'error (pytest exit {rc})')
    return verdict, secs, tail

def _interrupt(*args): raise KeyboardInterrupt

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--only', nargs='*', help='run only these mutants (names)')
    ap.add_argument('--timeout', type=int, default=600, help='seconds for the tests of one mutant')
    ap.add_argument('--list', action='store_true', help='list the mutants and exit')
    ap.add_argument('-v', '--verbose', action='store_true', help="show the end of every mutant's test output")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` restores the module too
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        for m in mutants: print(f'{m.name:24s} igds/{m.module:14s} {m.what}')
        return 0
    restore_leftovers()
    errs = check_patterns(mutants)
    if errs:
        print('\n'.join(errs) + '\nthe code changed under a mutant: update its pattern in tests/mutants.py'); return 2
    k = '' if any(not m.k for m in mutants) else ' or '.join(f'({m.k})' for m in mutants)
    rc, secs, tail = run_tests(sorted({f for m in mutants for f in m.tests}), k, args.timeout)
    if rc != 0:
        print(f'the selected tests fail (or time out) on the unmutated code ({secs:.0f} s):\n{tail}'); return 2
    print(f'unmutated: the selected tests pass ({secs:.0f} s)')
    killed = 0
    for m in mutants:
        verdict, secs, tail = mutate_and_test(m, args.timeout)
        killed += verdict.startswith('killed')
        print(f'{m.name:24s} {verdict:18s} {secs:5.0f} s  {m.what}')
        if args.verbose or not verdict.startswith('killed'): print('    ' + tail.replace('\n', '\n    '))
    print(f'{killed} of {len(mutants)} mutants killed')
    return 0 if killed == len(mutants) else 1

if __name__ == '__main__': sys.exit(main())
