"""Shared tiny fixtures: the `tiny-random` registry model (a random 4-block Llama, d_model 64) and random SAEs of each
architecture (`igds.select.random_sae`: unit-norm columns, small random biases). Tests that load a real model are
marked `slow`; `make test` skips them (`make test-slow` runs them)."""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import pytest

LAYER = 2  # the layer of the tiny model the SAEs read

def tiny_pair():
    "(model, tokenizer) of the `tiny-random` registry model, as `igds.models.load_model` gives it."
    from igds.config import ModelConfig
    from igds.models import load_model
    return load_model(ModelConfig(name='tiny-random', layer=LAYER))

def make_sae(arch:str='jumprelu', d_in:int=64, d_sae:int=256, layer:int=LAYER, **kw):
    "A random sae-lens SAE (`jumprelu`, `standard` or `topk`) reading the residual after block `layer` (or `hook=`)."
    from igds.select import random_sae
    return random_sae(d_in, d_sae, arch=arch, **{'hook': f'model.layers.{layer}', **kw})

@pytest.fixture(scope='session')
def tiny():
    "(model, tokenizer) of `tiny-random`, built once per session (tests only read it, or undo their hooks)."
    return tiny_pair()

@pytest.fixture(scope='session')
def sae():
    "A random JumpReLU SAE at layer 2 of the tiny model."
    return make_sae()

@pytest.fixture(scope='session')
def saes():
    "One random SAE of each architecture at layer 2 of the tiny model."
    return {a: make_sae(a, k=8) if a == 'topk' else make_sae(a) for a in ('jumprelu', 'standard', 'topk')}

@pytest.fixture
def new_sae():
    "The `make_sae` builder, for a test that needs another width, layer, hook or architecture."
    return make_sae
