"""Where one feature fires, token by token: its activation mass per (token class, token) on the first 24 pool examples.

    python experiments/feature_tokens.py 652 summarization [DATA_DIR] # feature 652 of the committed SmolLM2 SAE (L15)
"""
import torch, collections, sys
from igds.config import ModelConfig, TaskConfig, TOKEN_CLASSES
from igds.models import load_model, resid_at
from igds.sae import load_sae
from igds.tasks import make_splits, get_task
from igds.prompts import encode
from igds.select import encode_features
J, task = int(sys.argv[1]), sys.argv[2]; DATA = sys.argv[3] if len(sys.argv) > 3 else '../shared/data'
model, tok = load_model(ModelConfig(name='smollm2-135m', layer=15))
sae = load_sae('smollm2-135m', 15, hf_model=model, data_dir=DATA)
pool = make_splits(TaskConfig(name=task, data_dir=DATA, pool_size=1000, split_rule='v1'))['pool']
by = collections.defaultdict(float); cnt = collections.Counter()
with torch.no_grad():
    for ex in pool.select(range(24)):
        e = encode(tok, ex, get_task(task).max_length); ids = torch.tensor([e['input_ids']])
        h = resid_at(model, ids, torch.ones_like(ids), 15)[0]
        a = encode_features(sae, h.float(), [J])[:, 0]
        for t, c, v in zip(e['input_ids'], e['cls'], a.tolist()):
            if v > 0: k = (TOKEN_CLASSES[c], tok.decode([t])); by[k] += v; cnt[k] += 1
tot = sum(by.values())
for k, v in sorted(by.items(), key=lambda x: -x[1])[:12]:
    print(f"{k[0]:<9} {k[1]!r:<16} mass share {v/tot:.3f}  fires {cnt[k]}x")
