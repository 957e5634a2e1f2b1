"""Curated sentences for the guide, each with a word to click and the head that shows it best."""

from typing import TypedDict

import numpy as np

from .analysis.common import check_index, check_layer_head
from .errors import InputError
from .model import Model


class Example(TypedDict):
    title: str
    text: str
    query: int  # token index of the word to click
    target: int  # token index of the earlier word it should listen to
    layer: int
    head: int
    note: str  # what to look for, in words; the figures are always measured live


class FactPrompt(TypedDict):
    text: str
    answer: str  # the token the model should rank first, leading space included


# Chosen by scripts/find_examples.py: for each (query, target) pair, the head that gives the
# target the most attention among the heads where it is the query's top source after the first.
EXAMPLES: list[Example] = [
    {
        "title": "A pronoun finds its person",
        "text": "After lunch, Mary thanked John because he had helped her.",
        "query": 7,
        "target": 5,
        "layer": 15,
        "head": 7,
        "note": "Click “he”: this head passes over Mary and settles on John, the name that "
        "fits the pronoun.",
    },
    {
        "title": "A verb finds its subject",
        "text": "We saw that the students in the big red building were happy.",
        "query": 10,
        "target": 4,
        "layer": 13,
        "head": 8,
        "note": "Click “were”: this head skips the nearer building and looks back to "
        "students, the word the verb agrees with.",
    },
    {
        "title": "A repeated name recalls what came next",
        "text": "My friend Harry Potter went to school, and later Harry Potter went home.",
        "query": 10,
        "target": 3,
        "layer": 17,
        "head": 4,
        "note": "Click the second “Harry”: this head looks not at the first Harry but at "
        "the word after it, Potter, which is a good guess for what comes next.",
    },
    {
        "title": "A name in code finds its first use",
        "text": "def add(x, y): return x",
        "query": 8,
        "target": 3,
        "layer": 5,
        "head": 6,
        "note": "Click the last “x”: this head finds the earlier copy of the same name, "
        "where the function received it.",
    },
    {
        "title": "A closing bracket finds its opening",
        "text": "He paused (for a very long time, longer than anyone expected) and then spoke.",
        "query": 13,
        "target": 2,
        "layer": 4,
        "head": 8,
        "note": "Click “)”: across the whole aside, this head reaches back to the “(” "
        "that the bracket closes.",
    },
    {
        "title": "The last word finds the right day",
        "text": "The meeting was on Monday, but now it is on Friday, so we will see you on",
        "query": 18,
        "target": 11,
        "layer": 21,
        "head": 7,
        "note": "Click the last “on”: this head looks at Friday, the day that now holds, "
        "and hardly at Monday.",
    },
]

FACT_PROMPTS: list[FactPrompt] = [
    {"text": "The capital of France is", "answer": " Paris"},
    {"text": "The opposite of hot is", "answer": " cold"},
    {"text": "The Eiffel Tower is in the city of", "answer": " Paris"},
]


def measure(row: np.ndarray, target: int) -> dict:
    """How much one attention row gives `target`, raw and among the sources after the first.

    The first token soaks up much of every head's attention whatever it says (the attention
    sink), so the weight is also shown renormalised over the other sources, and ranked there.
    """
    rest = row[1:]
    if not 0 < target < len(row) or rest.sum() <= 0:
        raise InputError(
            f"target {target} must be a source after the first among {len(row)} sources"
        )
    weight = float(row[target])
    return {
        "weight": weight,
        "sink": float(row[0]),
        "renormalised": weight / float(rest.sum()),
        "rank": int(np.sum(rest > weight)),
        "top_source": int(np.argmax(rest)) + 1,
    }


def check_example(model: Model, example: Example) -> dict:
    """Measure an example live: its query's attention to its target in its layer and head."""
    layer, head = check_layer_head(model, example["layer"], example["head"])
    trace = model.trace(example["text"], names=[f"blocks.{layer}.attn.pattern"])
    query = check_index("query", example["query"], trace.n)
    target = check_index("target", example["target"], trace.n)
    if not 0 < target < query:
        raise InputError(
            f"target {target} must come after the first token and before query {query}"
        )
    row = trace[f"blocks.{layer}.attn.pattern"][head, query, : query + 1]
    texts = trace.token_texts
    found = measure(row, target)
    return found | {
        "query_token": texts[query],
        "target_token": texts[target],
        "top_source_token": texts[found["top_source"]],
    }
