"""Search every head for the clearest view of chosen word pairs, to pick the guide's examples.

Each candidate is a sentence, the word to click and the earlier word it should listen to.
For every one of the model's heads the script measures the clicked word's attention to the
intended word, keeps the heads where that word is the top source after the first token (the
attention sink), and prints the best of them by raw weight. Where no head qualifies it says
which word the most attentive head prefers instead.

    .venv/bin/python scripts/find_examples.py [--top 4]
"""

import argparse

import numpy as np

from cocktail_party import load_model
from cocktail_party.examples import measure
from cocktail_party.model import Trace

# (text, word to click, word it should attend to); "word#2" means the second occurrence
CANDIDATES = [
    # a pronoun and its person
    ("After lunch, Mary thanked John because he had helped her.", "he", "John"),
    ("After lunch, Mary thanked John because he had helped her.", "her", "Mary"),
    ("After the meeting, John thanked Mary because she", "she", "Mary"),
    ("Yesterday, when the doctor met Mary, she smiled.", "she", "Mary"),
    ("In the garden, the cat sat on the mat because it was tired.", "it", "cat"),
    ("Yesterday the trophy didn't fit in the suitcase because it was too big.", "it", "trophy"),
    ("Yesterday the trophy didn't fit in the suitcase because it was too small.", "it", "suit"),
    ("The trophy didn't fit in the suitcase because it was too small.", "small", "case"),
    # a verb and its distant subject
    ("We saw that the students in the big red building were happy.", "were", "students"),
    ("I think the keys to the old wooden cabinet are on the table.", "are", "keys"),
    ("The children, who had played outside all afternoon, were tired.", "were", "children"),
    # a describing word and its noun
    ("I think the dress that she wore to the party was red.", "red", "dress"),
    ("She wore a red silk dress.", "dress", "red"),
    # repeats: the earlier copy, and what followed it
    (
        "My friend Harry Potter went to school, and later Harry Potter went home.",
        "Harry#2",
        "Potter",
    ),
    (
        "My friend Harry Potter went to school, and later Harry Potter went home.",
        "Harry#2",
        "Harry",
    ),
    ("def add(x, y): return x", "x#2", "x"),
    ("I bought a new car last week, and now the car is broken.", "car#2", "car"),
    # closing marks and their openings
    ("He paused (for a very long time, longer than anyone expected) and then spoke.", ")", "("),
    ('They shouted "we are not going home until the game is over" all night.', '"#2', '"'),
    ("The list [1, 2, 3, 4] has four numbers.", "]", "["),
    # the word a continuation needs
    ("The meeting was on Monday, but now it is on Friday, so we will see you on", "on#3", "Friday"),
    ("The meeting was moved to Friday from Monday, so we will see you on", "on", "Friday"),
    ("The meeting was moved from Monday to Friday, so we will see you on", "on", "Friday"),
    ("The capital of France is", "is", "France"),
    ("The opposite of hot is", "is", "hot"),
]


def locate(trace: Trace, spec: str) -> int:
    """The token index of a word given as 'word' or 'word#k' (its k-th occurrence)."""
    word, _, nth = spec.partition("#")
    hits = [i for i, t in enumerate(trace.tokens) if t.text.strip() == word]
    k = int(nth or 1)
    if len(hits) < k:
        raise SystemExit(f"{spec!r} is not a token of {trace.text!r}: {trace.token_texts}")
    return hits[k - 1]


def scan(attention: np.ndarray, query: int, target: int) -> list[tuple[int, int, dict]]:
    """(layer, head, measure) for every head, the heads most attentive to the target first."""
    found = []
    for layer, pattern in enumerate(attention):
        for head, rows in enumerate(pattern):
            found.append((layer, head, measure(rows[query, : query + 1], target)))
    return sorted(found, key=lambda f: -f[2]["weight"])


def report(trace: Trace, query: int, target: int, top: int) -> None:
    texts = trace.token_texts
    print(f"\n{trace.text!r}\n  click {query} {texts[query]!r} -> {target} {texts[target]!r}")
    attention = trace.attention  # [n_layers, n_heads, n, n]
    heads = scan(attention, query, target)
    clear = [h for h in heads if h[2]["rank"] == 0]
    for layer, head, m in clear[:top]:
        row = attention[layer, head, query, 1 : query + 1]
        second = texts[int(np.argsort(-row)[1]) + 1] if query > 1 else "-"
        print(
            f"  L{layer:2d} H{head}  weight {m['weight']:.3f}"
            f"  without first {m['renormalised']:.3f}"
            f"  sink {m['sink']:.3f}  next best {second!r}"
        )
    if not clear:
        layer, head, m = heads[0]
        print(
            f"  no head puts it first; the most attentive, L{layer} H{head} "
            f"({m['weight']:.3f}), prefers {texts[m['top_source']]!r}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=4, help="heads to show per candidate")
    args = parser.parse_args()
    model = load_model()
    for text, query, target in CANDIDATES:
        trace = model.trace(text, names=["blocks.*.attn.pattern"])
        report(trace, locate(trace, query), locate(trace, target), args.top)


if __name__ == "__main__":
    main()
