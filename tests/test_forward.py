"""The forward pass: named internals, attention invariants, partial runs and a reference check."""

import numpy as np
import pytest
from synthetic import assert_same_as_transformers

from cocktail_party import load_model, trace_names
from cocktail_party.errors import UnknownNameError
from cocktail_party.model import forward as forward_module

TINY_TEXT = "the cat sat on the mat; then the cat ate 42 eggs at 7 o'clock."
SENTENCES = [
    "The capital of France is Paris, and the capital of Italy is Rome.",
    "When Mary and John went to the store, John gave a drink to",
    "In 1969 there were 12345 people 🎉 Привет 你好",
]


@pytest.fixture(scope="module")
def tiny(tiny_gguf):
    return load_model(tiny_gguf("Q8_0", n_layers=3).path, use_cache=False)


def test_trace_names_are_pinned(tiny_gguf):
    cfg = load_model(tiny_gguf(n_layers=2).path, use_cache=False).config
    block = [
        "resid_pre",
        "attn.q",
        "attn.k",
        "attn.v",
        "attn.scores",
        "attn.pattern",
        "attn.z",
        "attn_out",
        "resid_mid",
        "mlp.post",
        "mlp_out",
        "resid_post",
    ]
    want = ["embed"]
    want += [f"blocks.0.{n}" for n in block]
    want += [f"blocks.1.{n}" for n in block]
    want += ["final_norm", "logits"]
    assert trace_names(cfg) == want


def test_full_trace_holds_every_name_with_its_shape(tiny):
    cfg = tiny.config
    tr = tiny.trace(TINY_TEXT)
    n = tr.n
    assert list(tr.internals) == trace_names(cfg)
    shapes = {
        "embed": (n, cfg.d_model),
        "blocks.1.resid_pre": (n, cfg.d_model),
        "blocks.1.attn.q": (cfg.n_heads, n, cfg.d_head),
        "blocks.1.attn.k": (cfg.n_kv_heads, n, cfg.d_head),
        "blocks.1.attn.v": (cfg.n_kv_heads, n, cfg.d_head),
        "blocks.1.attn.scores": (cfg.n_heads, n, n),
        "blocks.1.attn.pattern": (cfg.n_heads, n, n),
        "blocks.1.attn.z": (cfg.n_heads, n, cfg.d_head),
        "blocks.1.attn_out": (n, cfg.d_model),
        "blocks.1.mlp.post": (n, cfg.d_mlp),
        "blocks.1.resid_post": (n, cfg.d_model),
        "final_norm": (n, cfg.d_model),
        "logits": (n, cfg.d_vocab),
    }
    for name, shape in shapes.items():
        assert tr[name].shape == shape, name
        assert tr[name].dtype == np.float32, name
    assert tr.attention.shape == (cfg.n_layers, cfg.n_heads, n, n)


def check_attention(attention: np.ndarray) -> None:
    """Rows sum to 1; a query never attends to a later position."""
    n = attention.shape[-1]
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)
    future = np.triu(np.ones((n, n), dtype=bool), k=1)
    assert np.all(attention[..., future] == 0.0)


@pytest.mark.parametrize("text", SENTENCES)
def test_attention_invariants_real_model(real_model, twin, text):
    check_attention(real_model.trace(text, names=["blocks.*.attn.pattern"]).attention)
    check_attention(twin.trace(text, names=["blocks.*.attn.pattern"]).attention)


@pytest.mark.parametrize("qtype", ["F32", "F16", "Q8_0", "Q4_0", "Q4_1"])
def test_attention_invariants_tiny_models(tiny_gguf, qtype):
    model = load_model(tiny_gguf(qtype).path, use_cache=False)
    check_attention(model.trace(TINY_TEXT).attention)


def test_attention_is_not_uniform(tiny):
    """Guards the invariants above: the tiny model's heads do prefer some positions."""
    attention = tiny.trace(TINY_TEXT).attention
    assert attention[..., 1:, :].max() > 0.5


def test_scores_are_masked_with_minus_infinity(tiny):
    scores = tiny.trace(TINY_TEXT)["blocks.0.attn.scores"]
    n = scores.shape[-1]
    future = np.triu(np.ones((n, n), dtype=bool), k=1)
    assert np.all(np.isneginf(scores[:, future]))
    assert np.all(np.isfinite(scores[:, ~future]))


def test_pattern_only_trace_equals_full_trace(real_model):
    text = SENTENCES[1]
    full = real_model.trace(text)
    only = real_model.trace(text, names=["blocks.*.attn.pattern"])
    want = [f"blocks.{layer}.attn.pattern" for layer in range(real_model.config.n_layers)]
    assert list(only.internals) == want
    assert "logits" not in only and "final_norm" not in only
    np.testing.assert_array_equal(only.attention, full.attention)


def count_blocks(monkeypatch) -> list[int]:
    """Record the layer of every block the forward pass runs."""
    ran: list[int] = []
    real_block = forward_module.block

    def counting_block(x, w, layer, *args):
        ran.append(layer)
        return real_block(x, w, layer, *args)

    monkeypatch.setattr(forward_module, "block", counting_block)
    return ran


def test_partial_trace_stops_after_the_last_wanted_layer(real_model, monkeypatch):
    text = SENTENCES[0]
    full = real_model.trace(text)
    ran = count_blocks(monkeypatch)
    part = real_model.trace(text, names=["blocks.2.attn.pattern"])
    assert ran == [0, 1, 2]
    assert list(part.internals) == ["blocks.2.attn.pattern"]
    np.testing.assert_array_equal(part["blocks.2.attn.pattern"], full["blocks.2.attn.pattern"])


def test_logits_need_every_layer(tiny, monkeypatch):
    ran = count_blocks(monkeypatch)
    tr = tiny.trace(TINY_TEXT, names=["logits"])
    assert ran == list(range(tiny.config.n_layers))
    assert list(tr.internals) == ["logits"]


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    x64 = x.astype(np.float64)
    return x64 / np.sqrt((x64**2).mean(axis=-1, keepdims=True) + eps) * w


def reproduce_logits(model, text: str) -> None:
    """Last resid_post -> final norm -> unembedding gives back the trace's logits."""
    cfg = model.config
    tr = model.trace(text)
    resid = tr[f"blocks.{cfg.n_layers - 1}.resid_post"]
    w_u = model.weights["embed.W_E" if cfg.tied_embeddings else "unembed.W_U"]
    logits = rms_norm(resid, model.weights["final_norm.w"], cfg.norm_eps) @ w_u.T
    scale = np.abs(logits).max()
    assert np.abs(logits - tr.logits).max() <= 1e-5 * scale


def test_trace_reproduces_the_logits_real_model(real_model):
    reproduce_logits(real_model, SENTENCES[0])


@pytest.mark.parametrize("tied", [True, False])
def test_trace_reproduces_the_logits_tiny(tiny_gguf, tied):
    reproduce_logits(load_model(tiny_gguf("Q4_1", tied=tied).path, use_cache=False), TINY_TEXT)


def test_residual_stream_adds_up(tiny):
    tr = tiny.trace(TINY_TEXT)
    for layer in range(tiny.config.n_layers):
        p = f"blocks.{layer}."
        mid = tr[p + "resid_pre"] + tr[p + "attn_out"]
        np.testing.assert_allclose(tr[p + "resid_mid"], mid, rtol=0, atol=1e-6)
        post = tr[p + "resid_mid"] + tr[p + "mlp_out"]
        np.testing.assert_allclose(tr[p + "resid_post"], post, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(tr["blocks.0.resid_pre"], tr["embed"])


def test_an_edit_flows_downstream(tiny):
    zero = {"blocks.1.attn_out": np.zeros_like}
    tr = tiny.trace(TINY_TEXT, edits=zero)
    clean = tiny.trace(TINY_TEXT)
    np.testing.assert_array_equal(tr["blocks.1.resid_mid"], tr["blocks.1.resid_pre"])
    np.testing.assert_array_equal(tr["blocks.0.resid_post"], clean["blocks.0.resid_post"])
    assert np.abs(tr.logits - clean.logits).max() > 1e-3


@pytest.mark.parametrize("name", ["blocks.99.attn.pattern", "attention", "blocks.*.attn.hook_q"])
def test_unknown_name(tiny, name):
    with pytest.raises(UnknownNameError) as err:
        tiny.trace(TINY_TEXT, names=[name])
    assert repr(name) in str(err.value)


def test_asking_a_trace_for_what_it_did_not_keep(tiny):
    tr = tiny.trace(TINY_TEXT, names=["blocks.0.attn.pattern"])
    with pytest.raises(UnknownNameError, match="'logits'"):
        tr["logits"]


def hf_llama(tiny, weights: dict[str, np.ndarray]):
    """transformers' eager Llama built from our weights, in float32."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    config = transformers.LlamaConfig(
        vocab_size=tiny.d_vocab,
        hidden_size=tiny.d_model,
        intermediate_size=tiny.d_mlp,
        num_hidden_layers=tiny.n_layers,
        num_attention_heads=tiny.n_heads,
        num_key_value_heads=tiny.n_kv_heads,
        head_dim=tiny.d_head,
        max_position_embeddings=tiny.n_ctx,
        rope_theta=tiny.rope_base,
        rms_norm_eps=tiny.norm_eps,
        tie_word_embeddings=tiny.tied,
        attention_bias=False,
        mlp_bias=False,
    )
    hf_names = {
        "attn_norm.w": "input_layernorm.weight",
        "attn.W_Q": "self_attn.q_proj.weight",
        "attn.W_K": "self_attn.k_proj.weight",
        "attn.W_V": "self_attn.v_proj.weight",
        "attn.W_O": "self_attn.o_proj.weight",
        "mlp_norm.w": "post_attention_layernorm.weight",
        "mlp.W_gate": "mlp.gate_proj.weight",
        "mlp.W_up": "mlp.up_proj.weight",
        "mlp.W_down": "mlp.down_proj.weight",
    }
    state = {
        "model.embed_tokens.weight": weights["embed.W_E"],
        "model.norm.weight": weights["final_norm.w"],
        "lm_head.weight": weights["embed.W_E" if tiny.tied else "unembed.W_U"],
    }
    for layer in range(tiny.n_layers):
        for ours, theirs in hf_names.items():
            state[f"model.layers.{layer}.{theirs}"] = weights[f"blocks.{layer}.{ours}"]
    model = transformers.LlamaForCausalLM(config).to(torch.float32).eval()
    model.set_attn_implementation("eager")
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}
    return model


@pytest.mark.reference
@pytest.mark.parametrize(("qtype", "tied"), [("F32", True), ("F32", False), ("Q4_1", True)])
def test_matches_transformers_on_a_tiny_model(tiny_gguf, qtype, tied):
    tiny = tiny_gguf(qtype, n_layers=3, tied=tied, seed=3)
    ours = load_model(tiny.path, use_cache=False).trace(TINY_TEXT)
    assert_same_as_transformers(ours, hf_llama(tiny, tiny.stored))
