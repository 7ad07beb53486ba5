"""The course labs (nbs/labs/): their shape, and a papermill run of each at the tiny setting (random model and SAE),
solved (the folded solutions filled in, so every self-check assert runs), failing on any error output; the blank
(handed-out) exercises are checked cell by cell. `make labs` runs them in full with the embedded model."""
import importlib.util, json, re
from pathlib import Path
import nbformat, pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location('igds_run_labs', ROOT/'docs'/'run_labs.py')
run_labs = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(run_labs)  # docs/run_labs.py
LABS = run_labs.labs()

def test_three_labs():
    assert [p.stem[:2] for p in LABS] == ['01', '02', '03'], LABS

@pytest.mark.parametrize('lab', LABS, ids=[p.stem for p in LABS])
def test_lab_shape(lab):
    nb = nbformat.read(lab, as_version=4)
    code = '\n'.join(c.source for c in nb.cells if c.cell_type == 'code')
    assert nb.cells[0].cell_type == 'markdown' and nb.cells[0].source.startswith('# Lab '), 'an H1 "Lab N: ..." first'
    assert not re.search(r'^#\|\s*(default_exp|export)', code, re.M), 'a lab exports nothing (no default_exp/export)'
    params = [c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])]
    assert len(params) == 1, 'exactly one cell tagged parameters'
    import papermill as pm
    found = pm.inspect_notebook(str(lab))
    assert {'model', 'sae'} <= set(found), f'papermill reads the parameters {sorted(found)}'
    ex = [i for i, c in enumerate(nb.cells) if 'exercise' in c.metadata.get('tags', [])]
    assert len(ex) >= 2, 'at least two exercises'
    for i in ex:
        sol = [run_labs.solution(c) for c in nb.cells[i+1:i+3] if run_labs.solution(c)]
        assert sol, f'exercise cell {i} has no folded solution after it'
        assert '<details' in nb.cells[i+1].source, f'the solution of exercise {i} is not hidden by default'
    assert all(not c.get('outputs') for c in nb.cells if c.cell_type == 'code'), 'labs are committed without outputs'

def test_labs_are_not_library_notebooks():
    "tests/test_notebooks.py globs nbs/*.ipynb only, and nbdev_export finds no default_exp in the labs."
    spec = importlib.util.spec_from_file_location('tnb', ROOT/'tests'/'test_notebooks.py')
    tnb = importlib.util.module_from_spec(spec); spec.loader.exec_module(tnb)
    assert not [p for p in tnb.NBS if 'labs' in p.parts]
    assert not any(p.stem.startswith(('01_task', '02_compare', '03_break')) for p in (ROOT/'igds').glob('*.py'))

@pytest.mark.parametrize('lab', LABS, ids=[p.stem for p in LABS])
def test_lab_runs_tiny_solved(lab, tmp_path, monkeypatch):
    monkeypatch.setenv('IGDS_CACHE', str(tmp_path/'cache'))  # the kernel inherits it: nothing reused from an earlier run
    r = run_labs.run_lab(lab, tmp_path, run_labs.TINY, solved=True)
    assert not r['errors'], r['errors']
    assert r['exercises'] >= 2 and r['correct'] == r['exercises'], f"{r['correct']} of {r['exercises']} self-checks passed"
    print(f"{lab.stem}: {r['seconds']} s at the tiny setting, {r['correct']}/{r['exercises']} self-checks passed")

@pytest.mark.parametrize('lab', LABS, ids=[p.stem for p in LABS])
def test_blank_exercises_are_reported_not_failed(lab):
    "As handed out, each exercise's check cell says 'not answered yet' instead of failing (run on its own: cheap)."
    import contextlib, io
    cells = nbformat.read(lab, as_version=4).cells
    for i, c in enumerate(cells):
        if 'exercise' not in c.metadata.get('tags', []): continue
        chk = next(d for d in cells[i+1:] if d.cell_type == 'code')
        ns, out = {}, io.StringIO()
        with contextlib.redirect_stdout(out): exec(c.source, ns); exec(chk.source, ns)
        assert re.fullmatch(r'Exercise \d+: not answered yet\n', out.getvalue()), (c.source, chk.source, out.getvalue())

def test_fill_solutions_rejects_an_exercise_without_solution():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = None', metadata={'tags': ['exercise']}),
                                         nbformat.v4.new_markdown_cell('no solution here')])
    with pytest.raises(ValueError, match='has no <details> solution'): run_labs.fill_solutions(nb)
