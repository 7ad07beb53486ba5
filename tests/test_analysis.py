"""The analysis against the grid: every grid method has a place in the tables, and the figures render from the results
of one instrument version alone (the rerun in progress) as well as from both."""
import json
from igds import analysis as A, plots as P
from igds.cells import grid_methods

def test_every_grid_method_has_a_place_in_the_analysis_order():
    "analysis does not import the grid's methods (igds.cells, which loads torch): none of them may miss its order."
    order = A.main_methods() + A.ABLATION_METHODS
    assert [m for m in grid_methods() if m not in order] == []
    assert A.method_order(grid_methods()) == list(dict.fromkeys(order))  # and nothing left to the alphabetical tail
    assert A.main_methods() == ('full', 'random', 'loss', 'ifd', 'zip', 'longest', 'igds-v1', 'igds')

def test_figures_render_from_the_first_instrument_alone(tmp_path):
    res = A.fake_results(tmp_path/'results', methods=('full', 'random', 'longest', 'igds-v1', 'igds-v1-mean'), seeds=(0, 1))
    names = {f.name for f in P.make_figures(res, tmp_path/'figs', echo=lambda *a: None)}
    assert {'main_table.txt', 'ablations.txt', 'ablations_paired_fake_math.txt', 'README.md'} <= names
    assert not any(n.startswith('igds_paired_') for n in names)  # no current IGDS yet: nothing to compare it with
    assert 'igds-v1' in (tmp_path/'figs'/'main_table.txt').read_text()

def test_figures_of_both_instruments(tmp_path):
    ms = ('full', 'random', 'longest', 'igds-v1', 'igds-v1-mean', 'igds', 'igds-sum')
    res = A.fake_results(tmp_path/'results', methods=ms, seeds=(0, 1))
    for name, version in (('features-v1.json', 'v1'), ('features.json', 'current')):  # the task's F* of each version
        (res/'fake'/'math'/name).write_text(json.dumps({'alpha_sweep': {'alphas': [1, 2], 'delta': {'3': [0., .1]}}}))
    names = {f.name for f in P.make_figures(res, tmp_path/'figs', echo=lambda *a: None)}
    assert {'igds_paired_fake_math.txt', 'delta_alpha_fake_math_v1.png', 'delta_alpha_fake_math.png'} <= names
    main = (tmp_path/'figs'/'main_table.txt').read_text()
    assert [l.split()[2] for l in main.splitlines()[2:]] == ['full', 'random', 'longest', 'igds-v1', 'igds']
    abl = (tmp_path/'figs'/'ablations.txt').read_text().split('\n\n')  # a table per version, each against its own IGDS
    assert len(abl) == 2 and 'vs igds-v1' in abl[0] and 'igds-sum' not in abl[0] and 'igds-v1-mean' not in abl[1]
    pairs = [l.split()[2:5] for l in (tmp_path/'figs'/'igds_paired_fake_math.txt').read_text().splitlines()]
    assert pairs == [['igds', '−', b] for b in ('random', 'longest', 'igds-v1')]*2  # exact match, then the NLL
    page = (tmp_path/'figs'/'README.md').read_text()
    assert '## ' + P.page_title('igds_paired_fake_math') in page and 'v1 (the first instrument)' in page
