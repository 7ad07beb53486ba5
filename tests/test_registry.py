"""Adding a selection method is one registered class: `get_selector`, `SelectConfig`, the CLI's `--method`, the grid's
methods and the analysis' order see it with nothing else edited."""
import numpy as np
import pytest
from igds.analysis import main_methods
from igds.cli import build_parser, main
from igds.config import SELECTORS, SelectConfig, TaskConfig, load_json
from igds.cells import cell_configs, grid_methods, method_spec
from igds.select import ScoreSelector, as_dataset, get_selector
from igds.tasks import get_task, make_splits

class Shortest(ScoreSelector):
    "The examples with the shortest responses (in characters), ties by pool order."
    name, needs = 'shortest', ()
    def score(self, pool)->np.ndarray: return -np.array([len(r) for r in as_dataset(pool)['response']], float)

@pytest.fixture
def shortest():
    SELECTORS.register(Shortest)
    yield Shortest
    del SELECTORS['shortest']

@pytest.fixture(scope='module')
def pool(): return get_task('math').load('train').select(range(10))

def test_a_registered_method_is_selected_by_name(shortest, pool):
    sel = get_selector(SelectConfig(method='shortest'))
    lens = [len(r) for r in pool['response']]
    assert type(sel) is Shortest
    assert sel.select(pool, 3) == [pool['id'][i] for i in np.argsort(lens, kind='stable')[:3]]

def test_the_cli_and_the_grid_list_it(shortest, tmp_path):
    sub = next(a for a in build_parser()._actions if a.dest == 'command').choices['select']
    assert 'shortest' in next(a for a in sub._actions if a.dest == 'method').choices
    assert main(['select', '--method', 'shortest', '--model', 'tiny-random', '--pool-size', '10', '--budget', '3',
                 '--runs', str(tmp_path)]) == 0
    sj = load_json(tmp_path/'tiny-random'/'math'/'shortest-b3-s0'/'selection.json')
    cli_pool = make_splits(TaskConfig(name='math', pool_size=10))['pool']
    assert sj['method'] == 'shortest' and sj['ids'] == Shortest().select(cli_pool, 3)
    assert 'shortest' in grid_methods() and method_spec('shortest')['select'] == dict(method='shortest')
    assert cell_configs('tiny-random', 'math', 'shortest').select.method == 'shortest'
    assert main_methods()[-3:] == ('shortest', 'igds-v1', 'igds')  # in the main table and figure, before IGDS

def test_an_unregistered_name_is_refused_with_the_registered_ones():
    with pytest.raises(ValueError, match=r"SelectConfig.method='shortest' is not one of \['igds', 'full'"):
        SelectConfig(method='shortest')
    assert 'shortest' not in grid_methods() and 'shortest' not in main_methods()
