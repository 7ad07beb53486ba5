"Feature statistics: resume after an interruption, folder reuse, bad input."
from pathlib import Path
from unittest import mock
import numpy as np, pytest
from igds.tasks import get_task
from igds import activations as A

@pytest.fixture(scope='module')
def setup(tiny, sae):
    return *tiny, sae, get_task('math').load('train').select(range(14))

def _same(a, b):
    for k in ('max', 'sum', 'nfire'): assert (a[k] != b[k]).nnz == 0, k
    np.testing.assert_array_equal(a['n_tokens'], b['n_tokens'])

def test_resume_after_interruption(setup, tmp_path):
    tm, tk, sae, exs = setup
    ref = A.load_stats(A.collect_stats(tm, tk, sae, 2, exs, tmp_path/'ref', shard_size=4, progress=False))
    real, calls = A._shard_rows, []
    def dies_on_third(*a, **k):
        calls.append(1)
        if len(calls) == 3: raise KeyboardInterrupt
        return real(*a, **k)
    with mock.patch.object(A, '_shard_rows', side_effect=dies_on_third), pytest.raises(KeyboardInterrupt):
        A.collect_stats(tm, tk, sae, 2, exs, tmp_path/'run', shard_size=4, progress=False)
    assert sorted(p.name for p in (tmp_path/'run').glob('shard-*')) == ['shard-00000.npz', 'shard-00001.npz']
    assert not list((tmp_path/'run').glob('*.tmp'))
    with pytest.raises(ValueError, match='incomplete'): A.load_stats(tmp_path/'run')
    with mock.patch.object(A, '_shard_rows', side_effect=real) as again:
        A.collect_stats(tm, tk, sae, 2, exs, tmp_path/'run', shard_size=4, progress=False)
    assert again.call_count == 2  # only the two missing shards (of 4) were computed
    _same(A.load_stats(tmp_path/'run'), ref)

def test_killed_process_resumes(setup, tmp_path):
    "A real SIGKILL mid-run: the finished shards stay, a rerun completes, the result equals an uninterrupted run."
    import subprocess, sys, time, signal, os
    tm, tk, sae, exs = setup
    code = ("from igds.models import load_model; from igds.tasks import get_task; from igds.select import random_sae\n"
            "import igds.activations as A, time\n"
            "tm, tk = load_model('tiny-random'); sae = random_sae(64, 256, hook='model.layers.2')  # conftest's `sae`\n"
            "exs=get_task('math').load('train').select(range(14)); real=A._shard_rows\n"
            "def slow(*a, **k): r=real(*a, **k); time.sleep(1.5); return r\n"
            f"A._shard_rows=slow; A.collect_stats(tm,tk,sae,2,exs,{str(tmp_path/'run')!r},shard_size=2,progress=False)\n")
    p = subprocess.Popen([sys.executable, '-c', code])
    t0 = time.time()
    while not list((tmp_path/'run').glob('shard-00001.npz')) and time.time() - t0 < 300 and p.poll() is None: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    done = len(list((tmp_path/'run').glob('shard-*.npz')))
    assert 2 <= done < 7
    A.collect_stats(tm, tk, sae, 2, exs, tmp_path/'run', shard_size=2, progress=False)
    ref = A.collect_stats(tm, tk, sae, 2, exs, tmp_path/'ref', shard_size=2, progress=False)
    _same(A.load_stats(tmp_path/'run'), A.load_stats(ref))

def test_folder_is_not_reused_for_other_data(setup, tmp_path):
    tm, tk, sae, exs = setup
    A.collect_stats(tm, tk, sae, 2, exs.select(range(4)), tmp_path, progress=False)
    with pytest.raises(ValueError, match='other examples or another SAE'):
        A.collect_stats(tm, tk, sae, 2, exs.select(range(1, 5)), tmp_path, progress=False)
    with pytest.raises(ValueError, match='other examples or another SAE'):
        A.collect_stats(tm, tk, sae, 2, exs.select(range(4)), tmp_path, classes=('response',), progress=False)

def test_bad_input(setup, tmp_path):
    tm, tk, sae, exs = setup
    with pytest.raises(ValueError, match="classes=\\('middle',\\): each class must be one of"):
        A.collect_stats(tm, tk, sae, 2, exs, tmp_path, classes='middle', progress=False)
    with pytest.raises(FileNotFoundError, match='no feature statistics'): A.load_stats(tmp_path/'nothing')
    st = A.load_stats(A.collect_stats(tm, tk, sae, 2, exs.select(range(3)), tmp_path/'ok', progress=False))
    with pytest.raises(ValueError, match="per='x'"): A.feature_freq(st, 'x')
    assert 0 < A.feature_freq(st, 'token').mean() <= A.feature_freq(st).mean()
