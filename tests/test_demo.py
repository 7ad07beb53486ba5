"""`igds demo` beyond its notebook: the keep rule's fallback with the null still measured, the record read back, the
axis rule enforced on the figure, the options from `DemoConfig`, and (marked `slow`) the real run."""
import pytest
import igds.demo
from igds.config import save_json
from igds.demo import DemoConfig, stage_configs, demo_features, run_demo, plot_demo, report_text, ANSI
from igds.intervene import draw_null, null_threshold, probe_live
from igds.tasks import make_splits
from conftest import LAYER

TINY = DemoConfig(model='tiny-random', sae='random', pool_size=16, probe_size=16, generic_size=16, n_candidates=8,
                  dev_select_size=8, dev_check_size=8, n_null=8, max_features=4, test_size=4, max_new_tokens=8,
                  n_boot=200)


def record(n_test:int=4)->dict:
    "A hand-made `run_demo` record: 4 candidates (2 in F*), a null of 2, a pool of 6 (3 kept by each selection)."
    cand = [dict(id=j, delta=d, se=0.002, z=d/0.002) for j, d in ((11, 0.01), (12, 0.004), (13, 0.0), (14, -0.003))]
    sc = {m: dict(value=v, lo=v - 3, hi=v + 3, n=n_test, finetune=None if m == 'base' else
                  dict(steps=1, train_loss=2.0, seconds=1.0, n_rows=3)) for m, v in (('base', 18), ('random', 19),
                                                                                     ('igds', 20))}
    ex = dict(id='train-1', score=0.5, n_on=1, n_counted=3, content=dict(tokens=['Das', ' Haus'], on=[False, True]),
              response=dict(tokens=['The', ' house'], on=[False, True]))
    return dict(config=DemoConfig(test_size=n_test).to_dict(), layer=15, metric='chrf', tokens={'11': [[' Haus', 2.0]]},
                filter=dict(features=cand[:2], candidates=cand, keep_rule='both', tau=0.0, z=1.645, fallback=None,
                            null=dict(ids=[1, 2], delta=[0.0, 0.001], se=[0.001, 0.001], quantile=0.00095, q=0.95,
                                      n_null=2),
                            recall=dict(n_candidates=4, n_probe=64, n_generic=64, n_live_probe=900, d_sae=4608)),
                examples=dict(selected=ex, rejected=dict(ex, id='train-2', n_on=0, score=0.0)),
                selection=dict(ids=[f'p{i}' for i in range(6)], score=[6, 5, 4, 3, 2, 1],
                               length=[30, 10, 20, 40, 5, 25], igds=['p0', 'p1', 'p2'], random=['p1', 'p3', 'p5']),
                frs_length_rho=-0.2, scores=sc,
                paired=[dict(a=a, b=b, metric='chrf', delta=sc[a]['value'] - sc[b]['value'], lo=-2.5, hi=4.5, p=0.3,
                             n_examples=n_test) for a, b in (('igds', 'random'), ('igds', 'base'), ('random', 'base'))],
                seconds=dict(load=1.0))


def test_no_feature_passing_the_rule_falls_back_to_positive_delta_and_keeps_the_null(tiny, tmp_path):
    model, tok = tiny
    from igds.run import load_sae_spec
    sae = load_sae_spec('random', model, LAYER, 'tiny-random')
    C = stage_configs(TINY); C.filter = C.filter.replace(z=1e9)  # no Δ can exceed 1e9·SE: the rule keeps nothing
    res = demo_features(model, tok, sae, LAYER, make_splits(C.task), C, tmp_path, progress=False)
    assert res['fallback'] and 'no candidate has' in res['fallback'] and res['keep_rule'] == 'both'
    delta = {r['id']: r['delta'] for r in res['candidates']}
    positive = sorted((j for j in delta if delta[j] > 0), key=lambda j: -delta[j])[:C.filter.max_features]
    assert [r['id'] for r in res['features']] == positive and positive
    null = res['null']
    assert null['ids'] == draw_null(probe_live(tmp_path/'recall')[0], list(delta), C.filter.n_null, C.filter.null_seed)
    assert not set(null['ids']) & set(delta) and len(null['ids']) == len(null['delta']) == len(null['se'])
    assert null['quantile'] == null_threshold(null['delta'], C.filter.null_quantile)
    assert not (tmp_path/'deltas.partial.jsonl').exists()


def test_a_record_with_the_same_settings_is_read_back_without_a_model(tmp_path, monkeypatch):
    def ran(*a, **k): raise RuntimeError('the demo ran again')
    monkeypatch.setattr(igds.demo, 'load_model', ran)
    rec = record(); save_json(rec, tmp_path/'demo.json')
    assert run_demo(DemoConfig(test_size=4), tmp_path)['selection'] == rec['selection']
    with pytest.raises(RuntimeError, match='ran again'): run_demo(DemoConfig(test_size=5), tmp_path)


def test_figure_enforces_the_axis_rule(tmp_path, monkeypatch):
    assert plot_demo(record(), tmp_path/'demo.png').stat().st_size > 10_000
    monkeypatch.setattr(igds.demo, 'axis_limits', lambda ivs, points=(), pad=0.08: (0.0, 1e-3))  # zoomed in too far
    with pytest.raises(ValueError, match='axis spans 0.001, less than the interval'):
        plot_demo(record(), tmp_path/'x.png')


def test_report_marks_tokens_and_says_what_it_cannot_show():
    text = report_text(record())
    assert 'source:   Das [Haus]' in text and "' Haus' (2.00)" in text and '  left out: 2 candidates' in text
    assert 'one fine-tuning seed and 4 test examples leave an interval 7.0 chrf points wide' in text
    assert text.splitlines()[-1].startswith('This demo shows what IGDS does on translation')
    ansi = report_text(record(), 'ansi')
    assert f'Das {ANSI[0]}Haus{ANSI[1]}' in ansi and '[Haus]' not in ansi
    prof = text[text.index('length profile'):].splitlines()
    # the pool's 3 longest are p3, p0, p5 (40, 30, 25): IGDS kept p0 of them, Random p3 and p5
    assert prof[3].split() == ['IGDS', '3', '20.0', '20.0', '0.33', '(0.50)']  # p0, p1, p2: 30, 10, 20
    assert prof[4].split() == ['Random', '3', '25.0', '25.0', '0.67', '(0.50)']  # p1, p3, p5: 10, 40, 25


def test_cli_options_come_from_the_config(capsys):
    from igds.cli import build_parser
    from fastcore.docments import docments
    p = build_parser(); args = p.parse_args(['demo'])
    assert {f: getattr(args, f) for f in DemoConfig.__dataclass_fields__} == DemoConfig().to_dict()
    with pytest.raises(SystemExit): p.parse_args(['demo', '--help'])
    help_text, doc = ' '.join(capsys.readouterr().out.split()), docments(DemoConfig)
    assert all(' '.join(doc[f].split())[:30] in help_text for f in DemoConfig.__dataclass_fields__)


@pytest.mark.slow
def test_the_real_demo(tmp_path):
    "The embedded model, its committed SAE and the translation samples, at the demo's sizes (minutes)."
    res = run_demo(DemoConfig(), tmp_path, progress=False)
    assert res['filter']['features'] and res['filter']['null']['n_null'] == DemoConfig().n_null
    for s in res['scores'].values(): assert s['lo'] <= s['value'] <= s['hi'] and s['n'] == DemoConfig().test_size
    assert plot_demo(res, tmp_path/'demo.png').exists()
