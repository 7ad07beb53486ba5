"""Every library notebook's inline tests, one pytest test per notebook (cells flagged `slow` are skipped); with
`-m slow` (`make test-slow`), the notebooks that have `slow` cells run again with those cells included."""
from pathlib import Path
import pytest
from nbdev import test as nbdev_test
from nbdev.process import NBProcessor
from igds.config import SELECTORS, TASKS

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

def has_slow_cells(nb:Path)->bool:
    "Whether a cell of `nb` carries the `slow` flag (nbdev's directives, as `nbdev_test` reads them)."
    return any('slow' in (getattr(c, 'directives_', None) or {}) for c in NBProcessor(nb, process=True).nb.cells)

SLOW = [p for p in NBS if has_slow_cells(p)]

def _run(nb, monkeypatch, skip_flags):
    monkeypatch.chdir(nb.parent)
    saved = [(r, dict(r.load())) for r in (SELECTORS, TASKS)]  # a notebook registers its own classes under the same names
    try: ok, secs = nbdev_test.test_nb(nb, skip_flags=skip_flags, do_print=False, showerr=True, basepath=ROOT)
    finally:
        for r, d in saved: r.clear(); r.update(d)
    assert ok, f"{nb.name} failed its inline tests (see the traceback above)"

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb, monkeypatch): _run(nb, monkeypatch, ['slow'])

@pytest.mark.slow
@pytest.mark.parametrize('nb', SLOW, ids=[p.stem for p in SLOW])
def test_notebook_slow_cells(nb, monkeypatch): _run(nb, monkeypatch, [])
