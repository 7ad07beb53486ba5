"Every library notebook's inline tests, one pytest test per notebook (cells flagged `slow` are skipped)."
from pathlib import Path
import pytest
from nbdev import test as nbdev_test

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)
    ok, secs = nbdev_test.test_nb(nb, skip_flags=['slow'], do_print=False, showerr=True, basepath=ROOT)
    assert ok, f"{nb.name} failed its inline tests (see the traceback above)"
