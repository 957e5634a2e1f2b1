import numpy as np, pytest
from cocktail_party.model import forward as fwd, gguf_file
import test_forward as tf

def bad_rope(x, cos, sin):
    x2 = np.stack([-x[..., 1::2], x[..., ::2]], axis=-1).reshape(x.shape)
    return x * cos + x2 * sin

def test_rope_mutation_is_caught(tiny_gguf, monkeypatch):
    monkeypatch.setattr(fwd, "apply_rope", bad_rope)
    with pytest.raises(AssertionError):
        tf.test_matches_transformers_on_a_tiny_model(tiny_gguf, "F32", True)

def test_unpermute_mutation_is_caught(tiny_gguf, monkeypatch):
    monkeypatch.setattr(gguf_file, "unpermute_qk", lambda w, n: w)
    with pytest.raises(AssertionError):
        tf.test_matches_transformers_on_a_tiny_model(tiny_gguf, "F32", True)

def test_gqa_mutation_is_caught(tiny_gguf, monkeypatch):
    real_repeat = np.repeat
    monkeypatch.setattr(fwd.np, "repeat", lambda a, r, axis: np.tile(a, (r, 1, 1)))
    with pytest.raises(AssertionError):
        tf.test_matches_transformers_on_a_tiny_model(tiny_gguf, "F32", True)
