"Baselines: IFD and ZIP against values computed by hand, Loss against the reference NLL, Full and Random."
import zlib
import numpy as np
import pytest
import torch
from datasets import Dataset
from igds.models import tiny_model, tiny_tokenizer
from igds.tasks import get_task, encode, response_nll
from igds.baselines import Full, Random, Loss, IFD, ZIP, ifd_order, zip_select, zip_text, compression_ratio, _Stream, response_alone

@pytest.fixture(scope='module')
def tiny():
    tk = tiny_tokenizer(); return tiny_model(tk), tk

@pytest.fixture(scope='module')
def pool(): return get_task('math').load('train').select(range(8))

def _ce_by_hand(model, ids:list, span:list)->float:
    "Mean -log p(token) over the response tokens, one token at a time from a full forward (no batching, no padding)."
    with torch.no_grad(): logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), -1)
    nll = [-logp[t-1, ids[t]].item() for t in range(1, len(ids)) if span[t] == 1]
    return sum(nll)/len(nll)

def test_ifd_hand_computed(tiny, pool):
    "IFD = CE(response | prompt) / CE(response alone), each computed token by token, for every example of the pool."
    model, tk = tiny
    det = IFD(model, tk, batch_size=3, progress=False).details(pool)
    for i, ex in enumerate(pool):
        e, a = encode(tk, ex, 512), response_alone(tk, ex, 512)
        assert a['input_ids'][0] == tk.bos_token_id and a['input_ids'][1:] == [t for t, s in zip(e['input_ids'], e['span']) if s]
        cond, alone = _ce_by_hand(model, e['input_ids'], e['span']), _ce_by_hand(model, a['input_ids'], a['span'])
        assert det['ce_cond'][i] == pytest.approx(cond, rel=1e-4)
        assert det['ce_alone'][i] == pytest.approx(alone, rel=1e-4)
        assert det['score'][i] == pytest.approx(cond/alone, rel=2e-4)

def test_ifd_selection_rule_hand_computed(pool):
    "Highest IFD among IFD < 1, then the rest by ascending IFD; the count is reported."
    v = np.array([0.5, 1.2, 0.9, 0.7, 1.05, 0.95, 1.0, 0.2])
    order, n_ok = ifd_order(v, 6)
    assert n_ok == 5 and order.tolist() == [5, 2, 3, 0, 7, 6, 4, 1]
    sel = IFD.__new__(IFD); sel.info = {}
    assert sel.select(pool, 6, scores=v) == [pool['id'][i] for i in (5, 2, 3, 0, 7, 6)]
    assert sel.info == dict(n_pool=8, n_selected=6, n_ifd_below_1=5, n_from_ifd_at_least_1=1)
    assert sel.select(pool, 3, scores=v) == [pool['id'][i] for i in (5, 2, 3)] and sel.info['n_from_ifd_at_least_1'] == 0

def test_zip_hand_computed():
    "Each pick checked against zlib.compress of the concatenations, written out stage by stage (k1 = 5, k2 = 2, k3 = 2)."
    texts = [b'the cat sat on the mat\n', b'the cat sat on the mat\n', b'Qx7#pL0z!mW2\n', b'aaaaaaaaaaaaaaaaaaaaaaaa\n',
             b'dogs and cats and birds\n']
    r = lambda *xs: len(b''.join(xs))/len(zlib.compress(b''.join(xs), 9))
    assert compression_ratio(texts[3]) == 25/len(zlib.compress(texts[3], 9))
    low = lambda cands, f, k: sorted(cands, key=lambda i: (f(i), i))[:k]
    # round 1, nothing selected: stage 2 = own ratios, keep 2; stage 3 from an empty set: lowest own ratio, then with it
    c2 = low(range(5), lambda i: r(texts[i]), 2)
    first = low(c2, lambda i: r(texts[i]), 1)[0]
    second = low([i for i in c2 if i != first], lambda i: r(texts[first], texts[i]), 1)[0]
    # round 2: stage 2 ranks the rest by their ratio with {first, second} and keeps 2; stage 3 restarts from an empty set
    rest = [i for i in range(5) if i not in (first, second)]
    c2 = low(rest, lambda i: r(texts[first], texts[second], texts[i]), 2)
    third = low(c2, lambda i: r(texts[i]), 1)[0]
    assert zip_select(texts, 3, k1=5, k2=2, k3=2) == [first, second, third]
    # the noise, then the cat (tied with its copy: pool order), then the dogs: the copy of the cat is filtered out by
    # stage 2 although alone it compresses worse (is less redundant) than the dogs
    assert (first, second, third) == (2, 0, 4) and r(texts[1]) < r(texts[4])
    ids = list('abcde')
    pool = Dataset.from_dict(dict(id=ids, instruction=[t[:-1].decode() for t in texts], response=['']*5))
    assert ZIP(5, 2, 2).select(pool, 3) == ['c', 'a', 'e']
    assert zip_text(pool[0]) == b'the cat sat on the mat\n\n'

def test_zip_stream_equals_recompressing():
    "The copied zlib stream gives exactly the size of compressing the concatenation from scratch."
    rows = get_task('math').load('train').select(range(60))
    t = [zip_text(r) for r in rows]
    s = _Stream()
    for i in range(40): s.add(t[i])
    for x in t[40:]:
        assert s.ratio_with(x) == len(b''.join(t[:40]) + x)/len(zlib.compress(b''.join(t[:40]) + x, 9))

def test_zip_k_caps_and_order():
    rows = get_task('math').load('train').select(range(30))
    t = [zip_text(r) for r in rows]
    sel = zip_select(t, 12, k1=10000, k2=200, k3=5)
    assert len(sel) == len(set(sel)) == 12
    assert zip_select(t, 12, 10000, 200, 5) == sel  # deterministic

def test_loss_matches_reference_nll_and_direction(tiny, pool):
    model, tk = tiny
    s = Loss(model, tk, batch_size=3, progress=False).score(pool)
    np.testing.assert_allclose(s, response_nll(model, tk, pool, 2, 512, progress=False), rtol=1e-4)
    hi, lo = Loss(model, tk, 'highest', progress=False), Loss(model, tk, 'lowest', progress=False)
    assert hi.select(pool, 4) == [pool['id'][i] for i in np.argsort(-s, kind='stable')[:4]]
    assert set(hi.select(pool, 4)).isdisjoint(lo.select(pool, 4))
    with pytest.raises(ValueError, match="'highest' or 'lowest'"): Loss(model, tk, 'up')

def test_loss_and_ifd_share_the_conditioned_pass(tiny, pool, tmp_path):
    model, tk = tiny
    Loss(model, tk, cache_dir=tmp_path, progress=False).score(pool)
    assert len(list(tmp_path.rglob('*.npy'))) == 1
    IFD(model, tk, cache_dir=tmp_path, progress=False).score(pool)
    assert len(list(tmp_path.rglob('*.npy'))) == 2  # only the 'alone' pass was added

def test_full_and_random(pool):
    assert Full().select(pool, 0.5) == list(pool['id'])
    with pytest.raises(ValueError, match='must be > 0'): Full().select(pool, 0)
    a = Random(7).select(pool, 0.5)
    assert a == Random(7).select(pool, 0.5) and len(a) == 4
    counts = np.zeros(8)
    for seed in range(400):
        for i in Random(seed).select(pool, 0.5): counts[list(pool['id']).index(i)] += 1
    assert np.all(np.abs(counts/400 - 0.5) < 0.1)  # uniform: each kept about half the time (sd 0.025)
