"Baselines: IFD and ZIP against values computed by hand, Loss against the reference NLL, Full and Random."
import random, zlib
import numpy as np
import pytest
import torch
from datasets import Dataset
from igds.tasks import get_task, encode, response_nll
from igds.baselines import Full, Random, Loss, IFD, ZIP, ifd_order, zip_select, zip_text, compression_ratio, _Stream, response_alone

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

# Random bytes do not compress: zlib stores them in one stored block, n bytes + 11 (2 of zlib header, 1 of block header,
# 4 of LEN/NLEN, 4 of Adler-32), so their ratio is n/(n + 11), lower for shorter texts. A text followed by a copy of
# itself compresses to about its own size (the copy is one back-reference), a ratio far above 1.
_R = random.Random(0)
X, Y, Z, A = _R.randbytes(100), _R.randbytes(120), _R.randbytes(60), b'a'*200

def test_zip_ratios_on_paper():
    for t in (X, Y, Z, X + Y, Y + Z + X): assert compression_ratio(t) == len(t)/(len(t) + 11)
    assert compression_ratio(X + X) > 1.5 and compression_ratio(A) > 10

def test_zip_hand_worked():
    "Answers worked out from the ratios above, one case per stage; `low` is stage 1 alone (the k lowest own ratios)."
    low = lambda texts, k: sorted(range(len(texts)), key=lambda i: (compression_ratio(texts[i]), i))[:k]
    # stage 1: the least compressible first; one pick per round (k3 = 1), each time the lowest ratio with those picked
    # (all noise: (s + n)/(s + n + 11), lowest for the shortest n), the run of 'a' last
    assert zip_select([A, Y, X, Z], 4, k1=10, k2=10, k3=1) == [3, 2, 1, 0] == low([A, Y, X, Z], 4)
    # stage 2: round 1 picks X (100/111 < 120/131; its copy is tied and later). Round 2: with the selected X, its copy
    # has ratio 200/116 > 1 and Y 220/231 < 1; k2 = 1 keeps Y alone. Stage 1 alone takes the copy.
    assert zip_select([X, X, Y], 2, k1=3, k2=1, k3=1) == [0, 2] and low([X, X, Y], 2) == [0, 1]
    # stage 3: one round picks both, X and then, with X picked in this stage, Y rather than the copy
    assert zip_select([X, X, Y], 2, k1=3, k2=3, k3=3) == [0, 2]
    # ... but stage 3 starts each round from an empty set: with k2 = 2 and k3 = 1, round 2's stage 3 sees the copy
    # (100/111) and Y (120/131) alone and takes the copy; only stage 2 compares with earlier rounds
    assert zip_select([X, X, Y], 2, k1=3, k2=2, k3=1) == [0, 1]
    # k1 caps stage 1: with k1 = 1 each round sees only the lowest recorded ratio, so the copy of X (recorded 100/111)
    # is taken in round 2 although Y would compress worse with X
    assert zip_select([X, X, Y], 2, k1=1, k2=3, k3=3) == [0, 1]

def test_zip_selector_on_a_pool():
    "The selector compresses each example's instruction and response, each followed by a newline."
    texts = ['the cat sat on the mat and the dog sat on the log', 'the cat sat on the mat and the dog sat on the log',
             'Qx7#pL0z!mW2 vB9&kT4r', 'dogs, cats and birds']
    pool = Dataset.from_dict(dict(id=list('abcd'), instruction=texts, response=['']*4))
    assert zip_text(pool[0]) == (texts[0] + '\n\n').encode()
    got = ZIP(4, 1, 1).select(pool, 3)
    assert got == [pool['id'][i] for i in zip_select([zip_text(r) for r in pool], 3, 4, 1, 1)]
    assert not {'a', 'b'} <= set(got)  # never both copies of the cat

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
