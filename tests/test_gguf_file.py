"""Reading GGUF files: configuration, dequantised weights, llama.cpp's row order and errors."""

from pathlib import Path

import numpy as np
import pytest
from synthetic import interleave_rows

from cocktail_party import load_model
from cocktail_party.errors import ModelFileError, UnsupportedModelError
from cocktail_party.model.gguf_file import (
    dequantize,
    expected_shapes,
    translate_name,
    unpermute_qk,
)

# largest error a stored weight may carry, as a fraction of the largest |w| in its 32-wide block:
# half a quantisation step, where 4-bit types round to 16 levels and Q8_0 to 255
BLOCK_ERROR = {
    "F32": 0.0,
    "F16": 2.0**-11,
    "Q8_0": 0.5 / 127 + 2.0**-11,
    "Q4_1": 1 / 15 + 2.0**-10,
    "Q4_0": 1 / 8 + 2.0**-10,  # the block's largest value may be clipped by a whole step
}


def block_error(got: np.ndarray, want: np.ndarray) -> float:
    """The largest error relative to the largest |value| of its 32-wide block of a row."""
    if want.ndim == 1:
        return float(np.abs(got - want).max() / np.abs(want).max())
    blocks = want.reshape(want.shape[0], -1, 32)
    err = np.abs(got.reshape(blocks.shape) - blocks).max(axis=-1)
    return float((err / np.abs(blocks).max(axis=-1)).max())


def load_tiny(path: Path):
    return load_model(path, use_cache=False)


@pytest.mark.parametrize("qtype", list(BLOCK_ERROR))
def test_weights_match_what_was_written(tiny_gguf, qtype):
    tiny = tiny_gguf(qtype)
    model = load_tiny(tiny.path)

    assert set(model.weights) == set(tiny.weights)
    for name, want in tiny.weights.items():
        got = model.weights[name]
        assert got.dtype == np.float32 and got.shape == want.shape, name
        # the file's own rounding, read back bit for bit, rows in the published order
        np.testing.assert_array_equal(got, tiny.stored[name], err_msg=name)
        assert block_error(got, want) <= BLOCK_ERROR[qtype], name


def test_f32_weights_are_exact(tiny_gguf):
    tiny = tiny_gguf("F32")
    model = load_tiny(tiny.path)
    for name, want in tiny.weights.items():
        np.testing.assert_array_equal(model.weights[name], want, err_msg=name)


def test_quantised_weights_are_not_exact(tiny_gguf):
    """Guards the test above: a 4-bit file must differ from its float source."""
    tiny = tiny_gguf("Q4_0")
    got = load_tiny(tiny.path).weights["blocks.0.attn.W_Q"]
    assert np.abs(got - tiny.weights["blocks.0.attn.W_Q"]).max() > 1e-3


@pytest.mark.parametrize("qtype", ["Q5_0", "Q5_1", "BF16"])
def test_other_types_gguf_can_write_are_read(tiny_gguf, qtype):
    tiny = tiny_gguf(qtype)
    model = load_tiny(tiny.path)
    for name, want in tiny.stored.items():
        np.testing.assert_array_equal(model.weights[name], want, err_msg=name)
    assert np.abs(model.weights["blocks.0.attn.W_Q"] - tiny.weights["blocks.0.attn.W_Q"]).max() > 0


def one_tensor_file(path: Path, data: np.ndarray, raw_dtype=None):
    """A GGUF file holding one tensor named 'probe', read back with gguf's reader."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tensor("probe", data, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return gguf.GGUFReader(path).tensors[0]


def q4_k_block(d: float, dmin: float, scales, mins, q) -> bytes:
    """One Q4_K super-block of 256 weights, packed by hand: weight i of sub-block j (32 each) is
    d * scales[j] * q[32 j + i] - dmin * mins[j], with 6-bit scales and mins and 4-bit q."""
    packed = np.zeros(12, dtype=np.uint8)
    for j in range(4):
        packed[j] = scales[j] | (scales[j + 4] >> 4) << 6
        packed[j + 4] = mins[j] | (mins[j + 4] >> 4) << 6
        packed[j + 8] = (scales[j + 4] & 15) | (mins[j + 4] & 15) << 4
    q = np.asarray(q, dtype=np.uint8).reshape(4, 2, 32)  # 64 weights per 32 bytes: low, high
    nibbles = q[:, 0] | q[:, 1] << 4
    head = np.array([d, dmin], dtype=np.float16).tobytes()
    return head + packed.tobytes() + nibbles.astype(np.uint8).tobytes()


def test_a_k_quant_written_by_hand_is_read(tmp_path):
    """gguf cannot write K-quants, so two Q4_K rows are packed here and read back."""
    from gguf import GGMLQuantizationType

    rng = np.random.default_rng(4)
    rows, want = [], []
    for d, dmin in [(0.5, 0.25), (0.0078125, 1.5)]:  # exact in float16
        scales, mins = rng.integers(0, 64, 8), rng.integers(0, 64, 8)
        q = rng.integers(0, 16, 256)
        rows.append(np.frombuffer(q4_k_block(d, dmin, scales, mins, q), dtype=np.uint8))
        want.append(d * np.repeat(scales, 32) * q - dmin * np.repeat(mins, 32))
    tensor = one_tensor_file(tmp_path / "k.gguf", np.stack(rows), GGMLQuantizationType.Q4_K)
    assert tensor.tensor_type == GGMLQuantizationType.Q4_K
    got = dequantize(tensor)
    assert got.dtype == np.float32 and got.shape == (2, 256)
    np.testing.assert_array_equal(got, np.array(want, dtype=np.float32))


def test_a_type_gguf_cannot_dequantise_is_named(tmp_path):
    tensor = one_tensor_file(tmp_path / "i32.gguf", np.arange(64, dtype=np.int32).reshape(2, 32))
    with pytest.raises(UnsupportedModelError, match="tensor 'probe' is stored as I32; this engine"):
        dequantize(tensor)


def test_config_comes_from_the_metadata(tiny_gguf):
    tiny = tiny_gguf("F32", n_layers=3)
    cfg = load_tiny(tiny.path).config
    assert cfg.name == "tiny"  # named after its file, tiny.gguf
    assert cfg.architecture == "llama"
    assert (cfg.n_layers, cfg.n_heads, cfg.n_kv_heads) == (3, tiny.n_heads, tiny.n_kv_heads)
    assert (cfg.d_model, cfg.d_head, cfg.d_mlp) == (tiny.d_model, tiny.d_head, tiny.d_mlp)
    assert (cfg.d_vocab, cfg.n_ctx) == (tiny.d_vocab, tiny.n_ctx)
    assert cfg.rope_base == tiny.rope_base
    assert cfg.norm_eps == pytest.approx(tiny.norm_eps)
    assert cfg.tied_embeddings
    assert cfg.group_size == 2


def test_separate_unembedding_is_read(tiny_gguf):
    tiny = tiny_gguf("Q8_0", tied=False)
    model = load_tiny(tiny.path)
    assert not model.config.tied_embeddings
    np.testing.assert_array_equal(model.weights["unembed.W_U"], tiny.stored["unembed.W_U"])
    assert "unembed.W_U" in expected_shapes(model.config)


def test_unpermute_restores_a_hand_worked_head():
    # one head of d_head 4: the checkpoint pairs rows (0, 2) and (1, 3); llama.cpp stores
    # each pair next to each other
    stored = np.array([[0.0], [2.0], [1.0], [3.0]])
    np.testing.assert_array_equal(unpermute_qk(stored, 1), [[0.0], [1.0], [2.0], [3.0]])


@pytest.mark.parametrize(("n_heads", "d_head"), [(1, 8), (2, 16), (4, 16), (9, 64)])
def test_unpermute_inverts_the_llama_cpp_order(n_heads, d_head):
    w = np.random.default_rng(1).standard_normal((n_heads * d_head, 24)).astype(np.float32)
    stored = interleave_rows(w, n_heads)
    assert not np.array_equal(stored, w)
    np.testing.assert_array_equal(unpermute_qk(stored, n_heads), w)


def test_translate_name():
    assert translate_name("token_embd.weight") == "embed.W_E"
    assert translate_name("blk.12.attn_k.weight") == "blocks.12.attn.W_K"
    assert translate_name("blk.0.ffn_down.weight") == "blocks.0.mlp.W_down"


def test_unknown_architecture(tiny_gguf):
    tiny = tiny_gguf(arch="gpt2")
    with pytest.raises(
        UnsupportedModelError, match="'gpt2' model; this engine runs llama and qwen2"
    ):
        load_tiny(tiny.path)


def test_unknown_tensor(tiny_gguf):
    def add_q_norm(tensors):
        tensors["blk.0.attn_q_norm.weight"] = np.ones(64, dtype=np.float32)

    tiny = tiny_gguf(edit=add_q_norm)
    with pytest.raises(UnsupportedModelError, match="'blk.0.attn_q_norm.weight'"):
        load_tiny(tiny.path)


def test_missing_tensor(tiny_gguf):
    tiny = tiny_gguf(edit=lambda tensors: tensors.pop("blk.1.ffn_up.weight"))
    with pytest.raises(UnsupportedModelError, match=r"lacks tensor.*blocks\.1\.mlp\.W_up"):
        load_tiny(tiny.path)


def test_wrong_shape(tiny_gguf):
    def shrink(tensors):
        tensors["blk.0.ffn_up.weight"] = tensors["blk.0.ffn_up.weight"][:96]

    tiny = tiny_gguf("Q8_0", edit=shrink)
    with pytest.raises(UnsupportedModelError) as err:
        load_tiny(tiny.path)
    message = str(err.value)
    assert "blocks.0.mlp.W_up" in message
    assert "(96, 64)" in message and "(128, 64)" in message


def test_rope_scaling_is_refused(tiny_gguf):
    def add_rope_freqs(tensors):
        tensors["rope_freqs.weight"] = np.ones(8, dtype=np.float32)

    tiny = tiny_gguf(edit=add_rope_freqs)
    with pytest.raises(UnsupportedModelError, match="RoPE frequency scaling"):
        load_tiny(tiny.path)


def test_text_file_is_not_gguf(tmp_path):
    path = tmp_path / "notes.gguf"
    path.write_text("just some notes\n")
    with pytest.raises(ModelFileError, match="is not a GGUF file.*b'just'"):
        load_tiny(path)


def test_truncated_file(tiny_gguf, tmp_path):
    path = tmp_path / "cut.gguf"
    path.write_bytes(tiny_gguf().path.read_bytes()[:200])
    with pytest.raises(ModelFileError, match="could not be read as GGUF"):
        load_tiny(path)


def test_missing_path(tmp_path):
    path = tmp_path / "absent.gguf"
    with pytest.raises(ModelFileError, match="absent.gguf.*does not exist"):
        load_tiny(path)


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="not a file"):
        load_tiny(tmp_path)
