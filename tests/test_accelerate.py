"""Sharding the model-based scorers under `accelerate launch`: two CPU processes give the ids and scores of one.

accelerate 1.x's `accelerate launch --cpu --num_processes 2` starts two processes only through mpirun (an MPI hostfile);
without MPI it silently starts one. So the test launches two CPU processes with torch's launcher through accelerate
(`--multi_gpu` with `ACCELERATE_USE_CPU=1`: gloo on CPU) and checks that two processes really ran."""
import json, os, shutil, socket, subprocess, sys, textwrap
from pathlib import Path
import numpy as np
import pytest

SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    from igds.models import load_model
    from igds.tasks import get_task
    from igds.config import SelectConfig
    from igds.select import random_sae, get_selector
    from igds.selection import is_main_process, _dist
    tm, tk = load_model('tiny-random')
    pool = get_task('math').load('train').select(range(22))
    sae = random_sae(64, 256, hook='model.layers.2')
    out = dict(world=_dist()[1])
    for method in ('igds', 'ifd'):
        sel = get_selector(SelectConfig(method=method, batch_size=4), tm, tk, sae, [17, 91, 200], layer=2, progress=False)
        det = sel.details(pool)
        out[method] = dict(ids=sel.select(pool, 0.5, scores=det['score']), **{k: np.asarray(v).tolist() for k, v in det.items()})
    if is_main_process(): open(sys.argv[1], 'w').write(json.dumps(out))
''')

@pytest.mark.timeout(1200)  # ~1 min on an idle 2-core machine; far more when it is shared
def test_two_processes_match_one(tmp_path):
    launcher = shutil.which('accelerate') or str(Path(sys.executable).parent/'accelerate')
    script = tmp_path/'score.py'; script.write_text(SCRIPT)
    env = dict(os.environ, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false', OMP_NUM_THREADS='1', ACCELERATE_USE_CPU='1')
    with socket.socket() as so: so.bind(('127.0.0.1', 0)); port = str(so.getsockname()[1])
    subprocess.run([sys.executable, str(script), str(tmp_path/'one.json')], check=True, env=env, cwd=tmp_path)
    r = subprocess.run([launcher, 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
                        '--dynamo_backend', 'no', '--main_process_port', port, str(script), str(tmp_path/'two.json')], env=env, cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    one, two = json.loads((tmp_path/'one.json').read_text()), json.loads((tmp_path/'two.json').read_text())
    assert (one.pop('world'), two.pop('world')) == (1, 2)
    for method in ('igds', 'ifd'):
        assert one[method]['ids'] == two[method]['ids'], method
        for col in one[method]:
            if col == 'ids': continue
            np.testing.assert_allclose(two[method][col], one[method][col], rtol=1e-5, err_msg=f'{method}.{col}')
    assert len(set(one['igds']['score'])) > 5  # the scores are not all alike, so equal ids mean something
