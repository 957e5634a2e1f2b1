"""A static copy of the guide: the page's own files and the API's answers to every request the
page makes on the curated sentences and fact prompts, precomputed so that any static file
server can host it (a class's web space, or `python -m http.server` on a USB stick)."""

import hashlib
import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from . import examples
from .errors import CocktailPartyError
from .model import Model
from .server.app import create_app, web_root

SCHEMA = "cocktail-party.export/1"
ANSWERS = "answers"  # the folder of precomputed answers, beside index.html
MANIFEST = f"{ANSWERS}/manifest.json"
META = "cocktail-party-export"  # <meta name=META content=MANIFEST>: js/api.js reads answers there
CHARSET = '<meta charset="utf-8">'
MODELS = ("trained", "untrained")
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3

Progress = Callable[[int, int], None]


class ExportError(CocktailPartyError):
    """The export's folder is not usable, or the API refused a request the page would make."""


@dataclass(frozen=True)
class Ask:
    """One request of the page: a GET with its query parameters or a POST with its JSON body."""

    method: str
    path: str
    params: dict

    @property
    def key(self) -> str:
        """The text js/api.js builds for the same request; its hash names the answer."""
        return f"{self.method} {self.path} {canonical(self.params)}"


@dataclass(frozen=True)
class Summary:
    files: int
    bytes: int
    requests: int
    answers: int  # distinct answers; equal answers to different requests share one file


def canonical(value) -> str:
    """JSON with sorted keys and no spaces, as the page's canonical() writes it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def key_hash(key: str) -> str:
    """64-bit FNV-1a of the key's UTF-8 bytes, as 16 hex digits (the same as in js/api.js)."""
    h = FNV_OFFSET
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


class _DataTexts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.texts += [value for name, value in attrs if name == "data-text" and value]


def page_sentences(html: str) -> list[str]:
    """The sentences the page offers as buttons of their own (chapter 2's suggestions)."""
    parser = _DataTexts()
    parser.feed(html)
    return parser.texts


def curated_texts() -> list[str]:
    """Every curated sentence, in order, once: the examples, then the page's own suggestions."""
    html = (web_root() / "index.html").read_text(encoding="utf-8")
    texts = [e["text"] for e in examples.EXAMPLES] + page_sentences(html)
    return list(dict.fromkeys(texts))


INFO = Ask("GET", "/api/info", {})
ROLES = Ask("GET", "/api/roles", {})


def chapter1_asks(text: str, heads: list[tuple[int, int]]) -> list[Ask]:
    """What chapter 1 requests for a sentence; it leaves the model at its default."""
    asks = [Ask("POST", "/api/tokenize", {"text": text}), Ask("POST", "/api/heads", {"text": text})]
    bodies = [{"text": text, "layer": layer, "head": head} for layer, head in heads]
    return asks + [Ask("POST", "/api/attention", body) for body in bodies]


def chapter2_asks(text: str, heads: list[tuple[int, int]]) -> list[Ask]:
    """What chapter 2 requests for a sentence: it names the model and always asks both."""
    return [
        Ask("POST", "/api/attention", {"text": text, "layer": layer, "head": head, "model": m})
        for layer, head in heads
        for m in MODELS
    ]


def sentence_asks(text: str, heads: list[tuple[int, int]]) -> list[Ask]:
    """What chapters 1 and 2 request for a sentence."""
    return chapter1_asks(text, heads) + chapter2_asks(text, heads)


def weights_asks(heads: list[tuple[int, int]], models: Iterable[str] = MODELS) -> list[Ask]:
    """Chapter 2's weight pictures: every head the pickers offer, of each model."""
    return [
        Ask("GET", "/api/weights", {"layer": str(layer), "head": str(head), "model": m})
        for layer, head in heads
        for m in models
    ]


def cuts(heads: list[tuple[int, int]], n_heads: int) -> list[dict]:
    """The parts chapter 3 can remove, as its parseCut() writes them: each layer's neurons,
    each layer's attention (all of its heads) and each single head."""
    layers = sorted({layer for layer, _ in heads})
    out = [{"heads": [], "mlps": [layer]} for layer in layers]
    out += [{"heads": [[layer, h] for h in range(n_heads)], "mlps": []} for layer in layers]
    return out + [{"heads": [[layer, head]], "mlps": []} for layer, head in heads]


def fact_asks(fact: examples.FactPrompt, heads: list[tuple[int, int]], n_heads: int) -> list[Ask]:
    """What chapter 3 requests for a fact prompt: the lens, the shares, the neurons, and a rerun
    for every part it offers to remove."""
    body = {"text": fact["text"], "target": fact["answer"]}
    reruns = [Ask("POST", "/api/ablate", {**body, **cut}) for cut in cuts(heads, n_heads)]
    return prompt_asks(fact["text"], fact["answer"]) + reruns


def prompt_asks(text: str, target: str | None) -> list[Ask]:
    """What chapter 3 requests to draw a prompt; target None: the model's own top guess."""
    body = {"text": text, "target": target}
    return [
        Ask("POST", "/api/lens", {**body, "k": 5}),
        Ask("POST", "/api/attribution", body),
        Ask("POST", "/api/neurons", {**body, "k": 8}),
    ]


def planned_asks(
    model: Model,
    texts: Iterable[str],
    facts: Iterable[examples.FactPrompt],
    heads: list[tuple[int, int]] | None = None,
) -> list[Ask]:
    """Every request the page makes on these sentences and prompts; heads=None: every head."""
    cfg = model.config
    if heads is None:
        heads = [(layer, head) for layer in range(cfg.n_layers) for head in range(cfg.n_heads)]
    asks = [INFO]
    for text in texts:
        asks += sentence_asks(text, heads)
    asks += weights_asks(heads)
    for fact in facts:
        asks += fact_asks(fact, heads, cfg.n_heads)
    return asks + [ROLES]


def is_export(folder: Path) -> bool:
    """Whether the folder holds a copy written by export_site."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("schema") == SCHEMA


def check_folder(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file; the export needs a folder")
    if folder.exists() and any(folder.iterdir()) and not is_export(folder) and not force:
        raise ExportError(
            f"{folder} is not empty and holds no earlier export; "
            "choose an empty folder, or add --force to write into it"
        )


def answer(client, ask: Ask) -> bytes:
    """The live API's answer to one request, as the bytes it sends; refused requests stop."""
    if ask.method == "GET":
        response = client.get(ask.path, params=ask.params)
    else:
        response = client.post(ask.path, json=ask.params)
    if response.status_code != 200:
        raise ExportError(
            f"{ask.key} answered {response.status_code} ({response.text[:200]}); "
            "the export holds only answers the page can use"
        )
    return response.content


def with_meta(html: str) -> str:
    """index.html with the tag that tells js/api.js to read the precomputed answers."""
    if CHARSET not in html:
        raise ExportError(f"index.html has no {CHARSET!r} to place the export's tag after")
    tag = f'<meta name="{META}" content="{MANIFEST}">'
    return html.replace(CHARSET, f"{CHARSET}\n  {tag}", 1)


def copy_page(folder: Path) -> list[Path]:
    """Copy the guide's files into folder; index.html gains the export's tag."""
    root = web_root()
    copied = []
    for src in sorted(root.rglob("*")):
        rel = src.relative_to(root)
        if src.is_dir() or any(p.startswith((".", "__")) for p in rel.parts):
            continue
        dst = folder / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if rel.as_posix() == "index.html":
            dst.write_text(with_meta(src.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copyfile(src, dst)
        copied.append(dst)
    return copied


def export_site(
    model: Model,
    folder: Path,
    *,
    texts: Iterable[str] | None = None,
    facts: Iterable[examples.FactPrompt] | None = None,
    heads: list[tuple[int, int]] | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Write the guide and its precomputed answers into folder.

    By default every curated sentence, every fact prompt and every head; texts, facts and heads
    narrow that down. A folder that holds an earlier export is rewritten; any other folder that
    is not empty needs force=True.
    """
    from fastapi.testclient import TestClient

    folder = Path(folder)
    check_folder(folder, force)
    texts = curated_texts() if texts is None else list(texts)
    facts = examples.FACT_PROMPTS if facts is None else list(facts)
    asks = planned_asks(model, texts, facts, heads)

    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder / ANSWERS, ignore_errors=True)  # no stale answers from an earlier run
    (folder / ANSWERS).mkdir()
    index: dict[str, str] = {}
    names: dict[str, str] = {}  # hash → key, to catch two requests sharing a name
    with TestClient(create_app(model)) as client:
        for done, ask in enumerate(asks, 1):
            name = key_hash(ask.key)
            if names.setdefault(name, ask.key) != ask.key:
                raise ExportError(f"{ask.key} and {names[name]} share the hash {name}")
            body = answer(client, ask)
            index[name] = hashlib.sha256(body).hexdigest()[:16]
            path = folder / ANSWERS / f"{index[name]}.json"
            if not path.exists():
                path.write_bytes(body)
            if progress:
                progress(done, len(asks))

    page = copy_page(folder)
    manifest = {"schema": SCHEMA, "model": model.config.name, "answers": index}
    (folder / MANIFEST).write_text(canonical(manifest), encoding="utf-8")
    written = page + list((folder / ANSWERS).iterdir())
    return Summary(
        files=len(written),
        bytes=sum(p.stat().st_size for p in written),
        requests=len(asks),
        answers=len(set(index.values())),
    )
