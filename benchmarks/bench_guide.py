"""What the guide costs in the browser: bytes over the wire for a full view, the time from a
click on a word to the redrawn, laid-out page, and the time and size of each view's figure.

    python benchmarks/bench_guide.py [--clicks 60]

Starts the guide's server on 127.0.0.1, drives Debian's Chromium with Playwright, and prints
medians. Targets: a full 30-token view <= 150 KB over the wire; click-to-redraw <= 16 ms.
"""

import argparse
import statistics
import sys
from urllib.parse import quote

from common import running_server
from playwright.sync_api import sync_playwright

from cocktail_party.figures import CHROMIUM_FLAGS

CHROMIUM = "/usr/bin/chromium"
SENTENCE = (
    "When the old lighthouse keeper finally retired, his granddaughter took over the lamp, "
    "and she kept it burning every night until the fishing boats came home."
)  # 30 tokens
CHIPS = "#chapter-1 [data-ref=chips] .ch1-chip"

# Click each word in turn; time the click, the redraw it triggers and the layout it forces.
CLICK_ALL = """async ([selector, rounds]) => {
  const times = [];
  for (let r = 0; r < rounds; r++) {
    for (const chip of document.querySelectorAll(selector)) {
      const start = performance.now();
      chip.click();
      void document.body.offsetHeight;  // force style and layout now, inside the timing
      times.push(performance.now() - start);
      await new Promise((done) => requestAnimationFrame(() => done()));
    }
  }
  const marks = performance.getEntriesByName("cp:redraw").map((e) => e.duration);
  return { laidOut: times, redraw: marks };
}"""


# Each view as a figure, several times: building the SVG from the page, then drawing the PNG.
FIGURES = """async ([names, rounds]) => {
  const figure = await import("/js/figure.js");  // the page's own module instance
  const out = {};
  for (const name of names) {
    const el = await figure.whenDrawn(name);
    const svgMs = [], pngMs = [];
    let svg, png;
    for (let r = 0; r < rounds; r++) {
      let start = performance.now();
      svg = figure.toSvg(el, ["a caption line"]);
      svgMs.push(performance.now() - start);
      start = performance.now();
      png = await figure.toPng(svg);
      pngMs.push(performance.now() - start);
    }
    out[name] = { svgMs, pngMs, svgBytes: new Blob([svg]).size, pngBytes: png.size };
  }
  return out;
}"""
VIEWS = {
    1: ["sentence", "inside", "sink", "heads"],
    2: ["weights", "recipe", "twins"],
    3: ["flow", "shares", "neurons", "roles"],
}


def measure_view(browser, url: str) -> dict:
    """Open one view in a fresh context; count the bytes every response put on the wire."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes = {"api": 0, "files": 0, "requests": 0}
    urls: dict[str, str] = {}

    def sent(event) -> None:
        urls[event["requestId"]] = event["request"]["url"]

    cdp.on("Network.requestWillBeSent", sent)

    def finished(event) -> None:
        kind = "api" if "/api/" in urls.get(event["requestId"], "") else "files"
        sizes[kind] += int(event["encodedDataLength"])
        sizes["requests"] += 1

    cdp.on("Network.loadingFinished", finished)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_load_state("networkidle")
    return {"page": page, "context": context, **sizes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=3, help="rounds over every word")
    parser.add_argument("--figures", type=int, default=5, help="rounds over every figure")
    args = parser.parse_args()
    with running_server() as (base, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        measure_view(browser, base + "/")["context"].close()  # warm the server's caches
        view = measure_view(browser, f"{base}/?ch=1&text={quote(SENTENCE)}")
        n_tokens = len(
            view["page"]
            .request.post(f"{base}/api/tokenize", data={"text": SENTENCE})
            .json()["tokens"]
        )
        times = view["page"].evaluate(CLICK_ALL, [CHIPS, args.clicks])
        figures = view["page"].evaluate(FIGURES, [VIEWS[1], args.figures])
        view["context"].close()
        others = {ch: measure_view(browser, f"{base}/?ch={ch}") for ch in (2, 3)}
        for ch, v in others.items():
            v["page"].wait_for_selector(f"#chapter-{ch}[data-drawn=true]", timeout=60_000)
            figures.update(v["page"].evaluate(FIGURES, [VIEWS[ch], args.figures]))
            v["context"].close()
        browser.close()

    def kb(n: int) -> str:
        return f"{n / 1024:.1f} KB"

    total = view["api"] + view["files"]
    verdict = "met" if total <= 150 * 1024 else "NOT MET"
    print(f"chapter 1, full view of a {n_tokens}-token sentence (gzip on):")
    print(
        f"  API {kb(view['api'])} + page files {kb(view['files'])} = {kb(total)} "
        f"in {view['requests']} responses (target <= 150 KB): {verdict}"
    )
    for ch, v in others.items():
        print(f"chapter {ch}, default view: API {kb(v['api'])} + page files {kb(v['files'])}")
    laid, redraw = times["laidOut"], times["redraw"]
    med = statistics.median(laid)
    p95 = sorted(laid)[int(0.95 * (len(laid) - 1))]
    print(
        f"click-to-redraw over {len(laid)} clicks: median {med:.1f} ms, p95 {p95:.1f} ms "
        f"(redraw + style + layout; target <= 16 ms): {'met' if med <= 16 else 'NOT MET'}"
    )
    print(f"  the guide's own 'cp:redraw' measure: median {statistics.median(redraw):.1f} ms")
    print(f"figures, median of {args.figures} (chapter 1 on the {n_tokens}-token sentence):")
    for name, f in figures.items():
        print(
            f"  {name:<9} SVG {statistics.median(f['svgMs']):6.1f} ms {kb(f['svgBytes']):>9}"
            f"   PNG {statistics.median(f['pngMs']):6.1f} ms {kb(f['pngBytes']):>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
