// The map of every head: one small picture of each head's pattern on the sentence, a button
// that opens it, and the measured attention sink of the sentence.

import { clone, fill, percent } from "./ch1-dom.js";

const INK = [11, 61, 122]; // the darkest shade, for a weight of 1
const MASKED = [232, 235, 239]; // the causal mask's corner

// decode turns the payload's base64 bytes into one Uint8Array of the lower triangle per head.
function decode(heads) {
  const bytes = Uint8Array.from(atob(heads.thumbnails), (c) => c.charCodeAt(0));
  const m = heads.size;
  const tri = (m * (m + 1)) / 2;
  const count = heads.n_layers * heads.n_heads;
  if (bytes.length !== count * tri) {
    throw new Error(`expected ${count} thumbnails of ${tri} bytes, got ${bytes.length} bytes`);
  }
  return (layer, head) => bytes.subarray((layer * heads.n_heads + head) * tri).subarray(0, tri);
}

function paint(canvas, levels, m) {
  canvas.width = m;
  canvas.height = m;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(m, m);
  let k = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      // square-root shading, so that weak attention still shows next to the sink
      const shade = j <= i ? Math.sqrt(levels[k++] / 255) : null;
      const rgb = shade === null ? MASKED : INK.map((c) => Math.round(255 - (255 - c) * shade));
      image.data.set([...rgb, 255], (i * m + j) * 4);
    }
  }
  ctx.putImageData(image, 0, 0);
}

// createHeads(parts, onPick) draws the grid into parts.grid; onPick(layer, head) opens a head.
export function createHeads(parts, onPick) {
  let thumbs = [];
  let shape = null;

  function build(heads, groupSize) {
    const levels = decode(heads);
    const grid = parts.grid;
    const corner = grid.querySelector(".ch1-grid-corner");
    grid.style.setProperty("--layers", String(heads.n_layers));
    const cells = [corner];
    for (let layer = 0; layer < heads.n_layers; layer++) {
      cells.push(label("ch1-grid-layer", layer));
    }
    thumbs = [];
    for (let head = 0; head < heads.n_heads; head++) {
      const startsGroup = head > 0 && head % groupSize === 0;
      const headLabel = label("ch1-grid-head", head);
      headLabel.classList.toggle("ch1-group-start", startsGroup);
      cells.push(headLabel);
      for (let layer = 0; layer < heads.n_layers; layer++) {
        const thumb = clone(parts["thumb-template"]);
        thumb.dataset.layer = String(layer);
        thumb.dataset.head = String(head);
        thumb.classList.toggle("ch1-group-start", startsGroup);
        fill(thumb, { layer, head, sink: percent(heads.sink[layer][head]) });
        paint(thumb.querySelector("canvas"), levels(layer, head), heads.size);
        thumb.addEventListener("click", () => onPick(layer, head));
        thumbs.push(thumb);
        cells.push(thumb);
      }
    }
    grid.replaceChildren(...cells);
    shape = { layers: heads.n_layers, heads: heads.n_heads };
    fill(parts["heads-panel"], { size: heads.size });
  }

  function select(layer, head) {
    for (const thumb of thumbs) {
      const on = Number(thumb.dataset.layer) === layer && Number(thumb.dataset.head) === head;
      thumb.classList.toggle("is-selected", on);
      thumb.setAttribute("aria-pressed", String(on));
      thumb.tabIndex = on ? 0 : -1;
    }
  }

  // Arrow keys move the focus across the grid; Enter or Space (the button's own) opens a head.
  parts.grid.addEventListener("keydown", (event) => {
    const at = event.target.closest(".ch1-thumb");
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (!at || !shape || !(event.key in step)) return;
    event.preventDefault();
    const [dl, dh] = step[event.key];
    const layer = clamp(Number(at.dataset.layer) + dl, shape.layers);
    const head = clamp(Number(at.dataset.head) + dh, shape.heads);
    const next = thumbs[head * shape.layers + layer];
    at.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });

  return { build, select };
}

function label(className, n) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = String(n);
  return el;
}

function clamp(x, n) {
  return Math.max(0, Math.min(n - 1, x));
}

// fillSink writes the sentence's measured sink: its mean over every head, range and this head.
export function fillSink(panel, heads, layer, head) {
  const all = heads.sink.flat();
  fill(panel, {
    mean: percent(all.reduce((a, b) => a + b, 0) / all.length),
    count: all.length,
    min: percent(Math.min(...all)),
    max: percent(Math.max(...all)),
    this: percent(heads.sink[layer][head]),
  });
}
