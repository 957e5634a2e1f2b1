"""Tokenizers built from the vocabulary stored in a GGUF file.

Two kinds exist. Byte-level BPE ("gpt2": SmolLM2, Llama 3, Qwen2) spells every byte with a
printable stand-in and names its pre-tokenizer ("smollm", "llama-bpe", "qwen2", ...), which this
module maps to the splitting rules the model was trained with. SentencePiece BPE ("llama": Llama 2,
TinyLlama, Mistral) writes a space as "▁", ranks merges by each piece's score and falls back to
byte tokens "<0xNN>" for characters it has no piece for.
"""

from collections.abc import Callable
from dataclasses import dataclass

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

from ..errors import UnsupportedModelError

# token_type values in GGUF: 2 marks the unknown token, 3 control tokens such as <|im_start|>,
# 4 user-defined ones; each is matched whole in the text.
_SPECIAL_TOKEN_TYPES = (2, 3, 4)
_UNKNOWN_TOKEN_TYPE = 2
SPACE = "▁"  # how a SentencePiece vocabulary writes a space

# the split of Llama 3 and Qwen2, which differ only in how many digits a number piece may hold
_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}DIGITS| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_SPLITS = {
    "llama-bpe": _SPLIT_PATTERN.replace("DIGITS", "{1,3}"),
    "llama3": _SPLIT_PATTERN.replace("DIGITS", "{1,3}"),
    "qwen2": _SPLIT_PATTERN.replace("DIGITS", ""),  # each digit alone
    "deepseek-r1-qwen": _SPLIT_PATTERN.replace("DIGITS", ""),
}


def _pre_tokenizer(name: str) -> pre_tokenizers.PreTokenizer:
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if name == "smollm":  # every digit alone, then the GPT-2 pattern
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    if name in ("gpt2", "default", "gpt-2"):
        return byte_level
    if name in _SPLITS:
        split = pre_tokenizers.Split(Regex(_SPLITS[name]), behavior="isolated")
        no_regex = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        return pre_tokenizers.Sequence([split, no_regex])
    known = ["smollm", "gpt2", "default", *_SPLITS]
    raise UnsupportedModelError(
        f"the GGUF file asks for pre-tokenizer {name!r}; this version knows "
        f"{', '.join(repr(k) for k in known)}"
    )


@dataclass(frozen=True)
class TokenizerSpec:
    """What a GGUF file says about its tokenizer, enough to rebuild it."""

    model: str  # "gpt2": byte-level BPE; "llama": SentencePiece BPE
    pre: str
    tokens: list[str]
    merges: list[str]  # byte-level BPE only; SentencePiece ranks merges by score
    token_types: list[int]
    scores: list[float]  # SentencePiece only: the higher a piece's score, the earlier it forms
    add_space_prefix: bool  # SentencePiece only: the text is read as if it began with a space


def _byte_level(spec: TokenizerSpec) -> Tokenizer:
    vocab = {token: i for i, token in enumerate(spec.tokens)}
    merges = [tuple(m.split(" ", 1)) for m in spec.merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = _pre_tokenizer(spec.pre)
    tok.decoder = decoders.ByteLevel()
    return tok


def sentencepiece_merges(tokens: list[str], scores: list[float]) -> list[tuple[str, str]]:
    """Every split of a piece into two pieces of the vocabulary, the best-scored piece first.

    SentencePiece joins, at each step, the neighbouring pair whose union has the highest score;
    BPE merges ranked by that score do the same. Among equal scores the longer left part goes
    first, then the earlier piece, as in transformers' conversion of the same vocabulary.
    """
    ids = {token: i for i, token in enumerate(tokens)}
    ranked = []
    for i, (piece, score) in enumerate(zip(tokens, scores)):
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in ids and right in ids:
                rank = (-score, -len(left), -len(right), i, ids[left], ids[right])
                ranked.append((rank, left, right))
    return [(left, right) for _, left, right in sorted(ranked)]


def _sentencepiece(spec: TokenizerSpec) -> Tokenizer:
    vocab = {token: i for i, token in enumerate(spec.tokens)}
    unknown = [t for t, kind in zip(spec.tokens, spec.token_types) if kind == _UNKNOWN_TOKEN_TYPE]
    model = models.BPE(
        vocab=vocab,
        merges=sentencepiece_merges(spec.tokens, spec.scores),
        unk_token=unknown[0] if unknown else None,
        fuse_unk=True,
        byte_fallback=True,
    )
    tok = Tokenizer(model)
    prepend = "first" if spec.add_space_prefix else "never"
    tok.pre_tokenizer = pre_tokenizers.Metaspace(SPACE, prepend_scheme=prepend, split=False)
    steps = [decoders.Replace(SPACE, " "), decoders.ByteFallback(), decoders.Fuse()]
    if spec.add_space_prefix:
        steps.append(decoders.Strip(" ", 1, 0))  # the space the tokenizer added itself
    tok.decoder = decoders.Sequence(steps)
    return tok


_BUILDERS = {"gpt2": _byte_level, "llama": _sentencepiece}


def build_tokenizer(spec: TokenizerSpec) -> Tokenizer:
    """Build a `tokenizers.Tokenizer` equivalent to the one the model was trained with."""
    if spec.model not in _BUILDERS:
        raise UnsupportedModelError(
            f"the GGUF tokenizer model is {spec.model!r}; this version reads byte-level BPE "
            "('gpt2': SmolLM2, Llama 3, Qwen2) and SentencePiece BPE ('llama': Llama 2, Mistral)"
        )
    tok = _BUILDERS[spec.model](spec)
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


def is_sentencepiece(tokenizer: Tokenizer) -> bool:
    """Whether the tokenizer spells text SentencePiece's way ("▁", "<0xNN>"), not byte-level."""
    return bool(getattr(tokenizer.model, "byte_fallback", False))


def _sentencepiece_bytes(piece: str) -> bytes:
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        try:
            return bytes([int(piece[3:5], 16)])
        except ValueError:
            pass  # a piece that only looks like a byte token
    return piece.replace(SPACE, " ").encode("utf-8")


def piece_decoder(tokenizer: Tokenizer) -> Callable[[str], bytes]:
    """The function from a token's piece, as the vocabulary spells it, to its bytes."""
    if is_sentencepiece(tokenizer):
        return _sentencepiece_bytes
    table = byte_decoder()
    return lambda piece: bytes(table[c] for c in piece if c in table)


def words_at_spaces(words: list[int], texts: list[str]) -> list[int]:
    """Split the tokenizer's words further: a word opens at a token that starts with whitespace
    and after a line break or tab. A SentencePiece tokenizer hands over the whole text as one word;
    negative word ids (special tokens) stay as they are."""
    out, word, previous = [], -1, None
    for w, text in zip(words, texts):
        if w < 0:
            out.append(w)
            previous = None
            continue
        opens = previous is None or w != previous[0] or text[:1].isspace()
        if opens or previous[1][-1:] in ("\n", "\r", "\t"):
            word += 1
        out.append(word)
        previous = (w, text)
    return out
