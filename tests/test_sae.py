"SAE loading and checks: the pretrained mapping and hook alignment offline, bad input, the fp16 commit round trip."
import os
from pathlib import Path
from unittest import mock
import pytest, torch
from igds.config import SAEConfig
from igds.models import ModelSpec, resid_at, hook_name
from igds.sae import (check_sae, sae_layer, sae_source, load_sae, trained_dir, commit_sae, d_model,
                      training_settings)
from conftest import make_sae

def _tiny(arch, n_layers=4, d=64, vocab=400):
    "A random tiny model of a paper model's architecture."
    import transformers as tf
    kw = dict(vocab_size=vocab, hidden_size=d, intermediate_size=2*d, num_hidden_layers=n_layers, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=256)
    cfg = dict(llama=(tf.LlamaConfig, tf.LlamaForCausalLM, {}), gemma2=(tf.Gemma2Config, tf.Gemma2ForCausalLM, dict(head_dim=16)),
               qwen3=(tf.Qwen3Config, tf.Qwen3ForCausalLM, dict(head_dim=16)))[arch]
    torch.manual_seed(0)
    return cfg[1](cfg[0](**kw, **cfg[2])).eval()

def _fake_pretrained(release, sae_id, device='cpu'):
    "What sae-lens' converters give for a public residual SAE: hook blocks.{L}.hook_resid_post."
    import re
    L = int(re.search(r'\d+', sae_id).group())
    return make_sae(d_sae=512, hook=f'blocks.{L}.hook_resid_post')

@pytest.mark.parametrize('arch,release,sid,expect', [
    ('gemma2', 'gemma-scope-2b-pt-res-canonical', 'layer_{layer}/width_16k/canonical', 'layer_2/width_16k/canonical'),
    ('llama', 'llama_scope_lxr_8x', 'l{layer}r_8x', 'l2r_8x'),
    ('qwen3', 'qwen-scope-3-8b-base-w64k-l50', 'layer{layer}', 'layer2')])
def test_pretrained_mapping_and_hook_alignment(arch, release, sid, expect):
    m = _tiny(arch)
    spec = ModelSpec(f'tiny-{arch}', None, 4, 2, sae_release=release, sae_id=sid)
    with mock.patch('sae_lens.SAE.from_pretrained', side_effect=_fake_pretrained) as fp:
        sae = load_sae(spec, None, hf_model=m)  # registry default layer 2
        fp.assert_called_once_with(release, expect, device='cpu')
    assert sae_layer(sae) == 2
    # the residual igds reads after block L is TransformerLens' blocks.L.hook_resid_post = HF hidden_states[L+1]
    ids = torch.randint(0, 400, (2, 9))
    with torch.no_grad(): hs = m(ids, output_hidden_states=True).hidden_states
    for L in range(3):
        torch.testing.assert_close(resid_at(m, ids, layer=L), hs[L+1], rtol=1e-5, atol=1e-5)
    assert hook_name(m, 2) == 'model.layers.2'

def test_registry_mapping():
    assert sae_source('gemma-2-2b', 5)['sae_id'] == 'layer_5/width_16k/canonical'
    assert sae_source('qwen3-8b')['release'] == 'qwen-scope-3-8b-base-w64k-l50'
    assert sae_source('gemma-2-2b', cfg=SAEConfig(release='r', sae_id='x{layer}'))['sae_id'] == 'x12'
    assert sae_source('smollm2-135m', cfg=SAEConfig(source='path', path='/x')) == dict(kind='disk', path='/x', layer=15)

def test_d_in_mismatch_is_clear(tiny):
    m = tiny[0]
    with pytest.raises(ValueError, match=r'd_in=128 but .* residual width 64.*another model'):
        check_sae(make_sae(d_in=128), m, 2)

def test_wrong_layer_is_clear(tiny):
    m = tiny[0]
    with pytest.raises(ValueError, match=r'trained on layer 3 .* layer 2 was asked: pass --layer 3'):
        check_sae(make_sae(hook='blocks.3.hook_resid_post'), m, 2)
    with pytest.raises(ValueError, match='not the residual stream'):
        check_sae(make_sae(hook='blocks.2.hook_mlp_out'), m, 2)
    with pytest.raises(ValueError, match='no hook_name'):
        check_sae(make_sae(hook=None), m, 2)

def test_missing_trained_sae_says_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv('IGDS_CACHE', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='igds sae train --model tiny-random --layer 1'):
        load_sae('tiny-random', 1)

def test_cache_lookup_and_fp16_commit(tmp_path, monkeypatch, tiny, sae):
    monkeypatch.setenv('IGDS_CACHE', str(tmp_path/'cache'))
    from igds.config import save_json
    cfg = SAEConfig(n_tokens=1000)
    d = trained_dir('tiny-random', 2, cfg)
    assert d != trained_dir('tiny-random', 2, cfg.replace(k=16)) and d == trained_dir('tiny-random', 2, cfg.replace(source='trained'))
    sae.save_model(d)
    save_json(dict(model='tiny-random', layer=2, hook_name='model.layers.2', sae_config=cfg.to_dict(), distinct_tokens=1000,
                   tokens_trained=1000, wall_seconds=1, collect_seconds=0, train_seconds=1, examples_used=10), d/'igds_sae.json')
    m = tiny[0]
    back = load_sae('tiny-random', 2, cfg, hf_model=m)
    x = torch.randn(7, 64)
    torch.testing.assert_close(back.encode(x), sae.encode(x))
    with pytest.raises(ValueError, match='trained on layer 2'): check_sae(back, m, 1)
    out = commit_sae(d, tmp_path/'data'/'tiny-random-L2', 'igds sae train --model tiny-random')
    assert (out/'README.md').read_text().count('igds sae train --model tiny-random') == 1
    from sae_lens import SAE
    half = SAE.load_from_disk(out)
    assert half.W_enc.dtype == torch.float16
    assert (out/'sae_weights.safetensors').stat().st_size < 0.6*(d/'sae_weights.safetensors').stat().st_size
    full = SAE.load_from_disk(out, dtype='float32')
    torch.testing.assert_close(full.decode(full.encode(x)), sae.decode(sae.encode(x)), rtol=1e-2, atol=1e-2)

def test_committed_sae_is_found_for_default_settings(tmp_path, monkeypatch, sae):
    from igds import sae as S
    from igds.config import save_json
    monkeypatch.setattr(S, 'repo_saes', lambda: tmp_path)
    monkeypatch.setenv('IGDS_CACHE', str(tmp_path/'cache'))
    p = tmp_path/'tiny-random-L2'
    sae.save_model(p)
    save_json(dict(sae_config=SAEConfig(n_tokens=123).to_dict()), p/'igds_sae.json')
    assert sae_source('tiny-random')['path'] == str(p)                       # the defaults: the model's standard SAE
    assert sae_source('tiny-random', cfg=SAEConfig(n_tokens=123))['path'] == str(p)  # the settings it was trained with
    with pytest.raises(FileNotFoundError): sae_source('tiny-random', cfg=SAEConfig(k=8))  # other settings: the cache

def test_cli_train_then_report(tmp_path, monkeypatch, capsys):
    "`igds sae train` on the tiny model: trains, caches, measures; a rerun reuses the cache; `igds sae report` measures it."
    import json
    from igds.cli import main
    from igds import sae as S
    monkeypatch.setenv('IGDS_CACHE', str(tmp_path))
    args = ['sae', 'train', '--model', 'tiny-random', '--layer', '2', '--n-tokens', '3000', '--k', '8', '--width-mult', '4', '--n-eval', '4']
    assert main(args) == 0
    rep = json.loads(capsys.readouterr().out)
    folder = Path(rep['folder'])
    assert folder.parent == tmp_path/'saes' and rep['explained_variance'] <= 1 and rep['n_examples'] == 4  # 3 steps: barely trained
    meta = json.loads((folder/'igds_sae.json').read_text())
    assert meta['distinct_tokens'] == 3000 and meta['sae_config']['k'] == 8 and meta['hook_name'] == 'model.layers.2'
    with mock.patch.object(S, 'train_sae') as t:
        assert main(args) == 0; t.assert_not_called()
    capsys.readouterr()
    assert main(['sae', 'report', '--model', 'tiny-random', '--layer', '2', '--sae-path', str(folder), '--n-eval', '3']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out['source']['kind'] == 'disk' and out['n_examples'] == 3
