// Small drawing and formatting helpers shared by chapters 2 and 3: token labels, number
// formats, colour scales, canvas pictures of matrices and patterns, and lists of bars.

const BLUE = [33, 102, 172];
const PALE = [247, 246, 242];
const ORANGE = [179, 88, 6];
const INK = "#1b1f24";

// A token as a reader sees it: the leading space dropped, invisible tokens named.
export function tokenLabel(text) {
  if (text === "\n") return "⏎";
  if (text.trim() === "") return "␣".repeat(Math.max(1, text.length));
  return text.trim();
}

export function pct(p, digits = 1) {
  return `${(p * 100).toFixed(digits)}%`;
}

export function fixed(x, digits = 2) {
  return x.toFixed(digits).replace("-", "−");
}

export function signed(x, digits = 2) {
  const s = x.toFixed(digits);
  return x >= 0 && !s.startsWith("-") ? `+${s}` : s.replace("-", "−");
}

export function count(n) {
  return n.toLocaleString("en-US");
}

export function mix(a, b, t) {
  return a.map((v, i) => Math.round(v + (b[i] - v) * t));
}

// Colour of a value in [-1, 1]: blue below zero, orange above, pale near zero.
function diverging(v) {
  const t = Math.max(-1, Math.min(1, v));
  return t < 0 ? mix(PALE, BLUE, -t) : mix(PALE, ORANGE, t);
}

export function rgb([r, g, b]) {
  return `rgb(${r} ${g} ${b})`;
}

function decodeInt8(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Int8Array(bytes.buffer);
}

// Draws a signed picture ({rows, cols, pixels: base64 int8 in -127..127}) one pixel per cell;
// CSS scales the canvas up without smoothing.
export function drawMatrix(canvas, picture) {
  const values = decodeInt8(picture.pixels);
  canvas.width = picture.cols;
  canvas.height = picture.rows;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(picture.cols, picture.rows);
  values.forEach((v, i) => {
    const [r, g, b] = diverging(v / 127);
    image.data.set([r, g, b, 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

function fitCanvas(canvas, cssWidth, cssHeight) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

// Draws an attention pattern (rows of weights, row i has i + 1 entries) as a lower triangle
// with token labels, the darker the heavier, and outlines one row.
export function drawPattern(canvas, pattern, labels, outlined, maxWidth) {
  const n = pattern.length;
  const probe = canvas.getContext("2d");
  const font = "13px system-ui, sans-serif";
  probe.font = font;
  const labelW = Math.min(120, Math.max(...labels.map((l) => probe.measureText(l).width)) + 10);
  const cell = Math.max(4, Math.min(40, Math.floor((maxWidth - labelW - 4) / n)));
  const grid = cell * n;
  const bottom = labelW * 0.9 + 6;
  const ctx = fitCanvas(canvas, labelW + grid + 4, grid + bottom);
  ctx.font = font;
  ctx.fillStyle = INK;
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  pattern.forEach((row, i) => {
    if (cell >= 10) ctx.fillText(labels[i], labelW - 6, i * cell + cell / 2);
    row.forEach((w, j) => {
      ctx.fillStyle = rgb(mix(PALE, BLUE, Math.sqrt(w)));
      ctx.fillRect(labelW + j * cell, i * cell, cell - 1, cell - 1);
    });
    ctx.fillStyle = INK;
  });
  if (cell >= 10) {
    labels.forEach((label, j) => {
      ctx.save();
      ctx.translate(labelW + j * cell + cell / 2, grid + 4);
      ctx.rotate(-Math.PI / 3);
      ctx.fillText(label, 0, 0);
      ctx.restore();
    });
  }
  if (outlined !== null) {
    ctx.strokeStyle = "#c77c00";
    ctx.lineWidth = 3;
    ctx.strokeRect(labelW - 1.5, outlined * cell - 1.5, (outlined + 1) * cell + 2, cell + 2);
  }
}

// Fills a list from a <template> with one row per item: {label, value (0-1 of the track),
// text}.
export function fillBars(list, template, items) {
  list.replaceChildren(
    ...items.map((item) => {
      const li = template.content.firstElementChild.cloneNode(true);
      li.querySelector("[data-b=label]").textContent = item.label;
      li.querySelector("[data-b=value]").textContent = item.text;
      const size = Math.min(1, Math.max(0, item.value)) * 100;
      li.querySelector("[data-b=bar]").style.width = `${size}%`;
      return li;
    }),
  );
}
