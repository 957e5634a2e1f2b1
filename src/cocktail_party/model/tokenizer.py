"""A byte-level BPE tokenizer built from the vocabulary stored in a GGUF file.

The GGUF file names its pre-tokenizer ("smollm", "gpt2", "llama-bpe", ...); this module maps each
known name to the splitting rules that the model was trained with.
"""

from dataclasses import dataclass

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

from ..errors import UnsupportedModelError

# token_type values in GGUF: 3 marks control tokens such as <|im_start|>, 4 user-defined ones.
_SPECIAL_TOKEN_TYPES = (3, 4)

_LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _pre_tokenizer(name: str) -> pre_tokenizers.PreTokenizer:
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if name == "smollm":  # every digit alone, then the GPT-2 pattern
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    if name in ("gpt2", "default", "gpt-2"):
        return byte_level
    if name in ("llama-bpe", "llama3"):
        split = pre_tokenizers.Split(Regex(_LLAMA3_PATTERN), behavior="isolated")
        no_regex = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        return pre_tokenizers.Sequence([split, no_regex])
    raise UnsupportedModelError(
        f"the GGUF file asks for pre-tokenizer {name!r}; this version knows "
        "'smollm', 'gpt2', 'default' and 'llama-bpe'"
    )


@dataclass(frozen=True)
class TokenizerSpec:
    """What a GGUF file says about its tokenizer, enough to rebuild it."""

    model: str  # "gpt2" means byte-level BPE
    pre: str
    tokens: list[str]
    merges: list[str]
    token_types: list[int]


def build_tokenizer(spec: TokenizerSpec) -> Tokenizer:
    """Build a `tokenizers.Tokenizer` equivalent to the one the model was trained with."""
    if spec.model != "gpt2":
        raise UnsupportedModelError(
            f"the GGUF tokenizer model is {spec.model!r}; this version reads only byte-level "
            "BPE ('gpt2'), the kind SmolLM2, Llama 3 and Qwen2 use"
        )
    vocab = {token: i for i, token in enumerate(spec.tokens)}
    merges = [tuple(m.split(" ", 1)) for m in spec.merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = _pre_tokenizer(spec.pre)
    tok.decoder = decoders.ByteLevel()
    special = [
        AddedToken(t, special=True, normalized=False)
        for t, kind in zip(spec.tokens, spec.token_types)
        if kind in _SPECIAL_TOKEN_TYPES
    ]
    tok.add_special_tokens(special)
    return tok


def byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's byte-to-printable-character table."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}
