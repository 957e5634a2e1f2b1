"""The `cocktail-party` command: the model's internals in a terminal, and the guide's server."""

import argparse
import json
import logging
import sys
import webbrowser
from pathlib import Path

import numpy as np

from . import analysis, examples
from .analysis.common import check_index
from .errors import CocktailPartyError, InputError
from .model import Model, load_model
from .server.views import DIGITS

SHADES = " ░▒▓█"
TRACE_SCHEMA = "cocktail-party.trace/1"


def _label(text: str, width: int = 12) -> str:
    shown = text.replace("\n", "⏎").replace("\t", "⇥")
    return (shown[: width - 1] + "…") if len(shown) > width else shown.ljust(width)


def heatmap(tokens: list[str], pattern: np.ndarray) -> str:
    """Rows: each token; columns: the tokens it may attend to, shaded by weight."""
    lines = [" " * 13 + " ".join(str(j % 10) for j in range(len(tokens)))]
    for i, token in enumerate(tokens):
        cells = [SHADES[min(4, int(np.ceil(w * 4)))] for w in pattern[i, : i + 1]]
        best = int(np.argmax(pattern[i, : i + 1]))
        lines.append(
            f"{_label(token)} {' '.join(cells)}   → {tokens[best]!r} {pattern[i, best]:.2f}"
        )
    return "\n".join(lines)


def figure_of(model: Model, args, view: str, text: str, **choices) -> str | None:
    """With --svg or --png: the view saved as that figure, and a line that says where."""
    path = args.svg or args.png
    if path is None:
        return None
    from . import notebook
    from .figures import checked_target

    path, format = checked_target(path, "svg" if args.svg else "png")  # before the model runs
    page = notebook.view(view, text, model=model, **choices)
    saved = page.save(path, format)
    return f"saved the {view} view ({page.title}) to {saved}"


def cmd_trace(model: Model, args) -> str:
    if args.head is not None and args.layer is None:
        raise InputError(f"--head {args.head} needs --layer: the head of which layer?")
    if args.json and (args.svg or args.png):
        raise InputError("--json prints the patterns; --svg and --png draw one: choose one")
    view = "heads" if args.layer is None else "sentence"
    choices = {"layer": args.layer, "head": args.head}
    if (saved := figure_of(model, args, view, args.text, **choices)) is not None:
        return saved
    trace = model.trace(args.text, names=["blocks.*.attn.pattern", "logits"])
    if args.json:
        return json.dumps(
            {
                "schema": TRACE_SCHEMA,
                "model": model.name,
                "text": trace.text,
                "tokens": [t.__dict__ for t in trace.tokens],
                "attention": np.round(trace.attention.astype(np.float64), DIGITS).tolist(),
                "next_token": analysis.top_k(model, trace, k=5),
            },
            ensure_ascii=False,
        )
    if args.layer is None:
        pattern, where = trace.attention.mean(axis=(0, 1)), "averaged over every layer and head"
    else:
        check_index("layer", args.layer, model.config.n_layers)
        head = check_index("head", args.head or 0, model.config.n_heads)
        pattern, where = trace.attention[args.layer, head], f"layer {args.layer}, head {head}"
    out = [f"{model.name}: {trace.n} tokens; whom each token attends to ({where})", ""]
    out.append(heatmap(trace.token_texts, pattern))
    best = analysis.top_k(model, trace, k=1)[0]
    out += ["", f"next token: {best['token']!r} ({best['prob']:.1%})"]
    return "\n".join(out)


def cmd_predict(model: Model, args) -> str:
    trace = model.trace(args.text, names=["logits"])
    top = analysis.top_k(model, trace, k=args.k)
    if args.json:
        return json.dumps({"model": model.name, "text": args.text, "top": top}, ensure_ascii=False)
    return "\n".join(
        f"{t['prob']:7.2%}  {'█' * round(t['prob'] * 40):<40} {t['token']!r}" for t in top
    )


def cmd_lens(model: Model, args) -> str:
    # the figure shows the last step, where the answer has risen
    saved = figure_of(model, args, "flow", args.text, target=args.target, step=-1)
    if saved is not None:
        return saved
    names = ["embed", "blocks.*.resid_mid", "blocks.*.resid_post", "logits"]
    lens = analysis.logit_lens(model, model.trace(args.text, names=names), k=3, target=args.target)
    if args.json:
        return json.dumps(lens, ensure_ascii=False)
    target = lens["target"]["token"]
    out = [f"best guesses after each sublayer; {target!r}: probability and rank", ""]
    for s in lens["stages"]:
        where = "embedding" if s["layer"] is None else f"layer {s['layer']:>2} {s['after']}"
        guesses = ", ".join(repr(t["token"]) for t in s["top"])
        out.append(f"{where:<20} {s['target_prob']:6.1%} #{s['target_rank'] + 1:<6} {guesses}")
    return "\n".join(out)


def cmd_heads(model: Model, args) -> str:
    prompt = examples.FACT_PROMPTS[0]["text"]  # the view sits in chapter 3, beside a prompt
    if (saved := figure_of(model, args, "roles", prompt)) is not None:
        return saved
    roles = analysis.head_roles(model)
    if args.json:
        return json.dumps(roles)
    out = []
    for role, definition in roles["definitions"].items():
        scores = np.array(roles["scores"][role])
        best = np.argsort(-scores, axis=None)[:5]
        top = ", ".join(
            f"L{l}H{h} {scores[l, h]:.2f}" for l, h in zip(*np.unravel_index(best, scores.shape))
        )
        out += [f"{role}: {definition}", f"  strongest: {top}", ""]
    return "\n".join(out)


def cmd_figure(model: Model, args) -> str:
    if not (args.svg or args.png):
        raise InputError("figure needs --svg PATH or --png PATH: where to write it")
    choices = {k: getattr(args, k) for k in ("layer", "head", "word", "target", "step")}
    given = {k: v for k, v in choices.items() if v is not None}
    word = given.get("word")
    if word is not None and word.lstrip("-").isdigit():
        given["word"] = int(word)  # a token index; any other word is the word's text
    return figure_of(model, args, args.view, args.text, **given)


def cmd_serve(model: Model, args) -> str:
    import uvicorn

    from .server.app import create_app

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {args.host}: other machines on the network can reach the guide",
            file=sys.stderr,
        )
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"The Cocktail Party is at {url}", file=sys.stderr)
    if args.open:
        webbrowser.open(url)
    uvicorn.run(create_app(model), host=args.host, port=args.port, log_level="warning")
    return ""


def progress_bar(label: str):
    """A reporter for progress(done, total, ...) that redraws one line on stderr."""

    def report(done: int, total: int, *_) -> None:
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


def cmd_export(model: Model, args) -> str:
    from .export import export_site

    if args.untrained:
        raise InputError("export shows the trained model beside its twin; drop --untrained")
    logging.getLogger().setLevel(logging.WARNING)  # not a line per request over the progress bar
    folder = Path(args.folder)
    summary = export_site(model, folder, force=args.force, progress=progress_bar("exporting"))
    return (
        f"wrote {summary.files} files, {summary.bytes / 1e6:.1f} MB "
        f"({summary.answers} precomputed answers), to {folder}\n"
        f"serve it with any static file server, e.g.: python -m http.server -d {folder}"
    )


def figure_options(parser: argparse.ArgumentParser, what: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--svg", metavar="PATH", help=f"save {what} as an SVG figure")
    group.add_argument("--png", metavar="PATH", help=f"save {what} as a PNG figure")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cocktail-party", description=__doc__)
    parser.add_argument(
        "--model", metavar="PATH", help="a llama-family GGUF file (default: SmolLM2-135M-Instruct)"
    )
    parser.add_argument("--untrained", action="store_true", help="use the untrained twin")
    parser.add_argument(
        "--max-tokens", type=int, default=256, help="longest text accepted (default 256)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("trace", help="whom each token attends to, as a heatmap or JSON")
    p.add_argument("text")
    p.add_argument("--layer", type=int, help="show one layer (default: the average of all)")
    p.add_argument("--head", type=int, help="with --layer: one head (default 0)")
    p.add_argument(
        "--json", action="store_true", help=f"every attention pattern as JSON ({TRACE_SCHEMA})"
    )
    figure_options(p, "with --layer: the sentence view of that head; else all heads at once")
    p.set_defaults(run=cmd_trace)

    p = sub.add_parser("predict", help="the likeliest next tokens")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("lens", help="the best guesses after every sublayer (logit lens)")
    p.add_argument("text")
    p.add_argument("--target", help="follow this token (default: the final top guess)")
    p.add_argument("--json", action="store_true")
    figure_options(p, "the layer flow of chapter 3")
    p.set_defaults(run=cmd_lens)

    p = sub.add_parser("heads", help="measured roles of every head")
    p.add_argument("--json", action="store_true")
    figure_options(p, "the role grids of chapter 3")
    p.set_defaults(run=cmd_heads)

    p = sub.add_parser("figure", help="any view of the guide as an SVG or PNG figure")
    p.add_argument(
        "view", help="sentence, inside, sink, heads, weights, recipe, twins, flow, shares, ..."
    )
    p.add_argument("text", help="the sentence (chapters 1 and 2) or the prompt (chapter 3)")
    p.add_argument("--layer", type=int, help="chapters 1 and 2: the layer")
    p.add_argument("--head", type=int, help="chapters 1 and 2: the head")
    p.add_argument("--word", help="chapters 1 and 2: the listening word (its text or index)")
    p.add_argument("--target", help="chapter 3: the answer to follow, one token")
    p.add_argument("--step", type=int, help="the layer flow: the step shown (-1: the last)")
    figure_options(p, "the view named")
    p.set_defaults(run=cmd_figure)

    p = sub.add_parser("serve", help="start the guide in the browser")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--open", action="store_true", help="open a browser on the guide")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser(
        "export", help="a static copy of the guide with the curated sentences precomputed"
    )
    p.add_argument("folder", metavar="DIR", help="an empty folder, or an earlier export")
    p.add_argument(
        "--force", action="store_true", help="write into a folder that holds other files"
    )
    p.set_defaults(run=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a figure's in-process requests
    try:
        model = load_model(
            args.model,
            trained=not args.untrained,
            max_tokens=args.max_tokens,
            progress=progress_bar("converting weights"),
        )
        output = args.run(model, args)
    except CocktailPartyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
