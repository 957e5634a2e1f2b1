// Saving a view as a figure for slides. The view is rebuilt from what the page laid out: each
// box, border and line of text at the place the browser put it, the page's own SVG drawings
// copied, canvases as images. The result is plain SVG (no embedded HTML), so slide and drawing
// programs read it too; the PNG is that SVG drawn at twice its size. A caption names the sentence
// and the model. Nothing is drawn twice: the figure is a copy of what the chapters drew.

const SVG_NS = "http://www.w3.org/2000/svg";
const XLINK_NS = "http://www.w3.org/1999/xlink";
const XML_NS = "http://www.w3.org/XML/1998/namespace";
const PADDING = 16;
const CAPTION_LINE = 20;
const CAPTION_SIZE = 14;
const PNG_SCALE = 2;
// Left out of a figure: the controls that change the view, and the figure buttons themselves.
const SKIP = ".controls, .figure-save, template, script";
// What an SVG drawing's elements get from the page's style sheets, written onto the copy.
const SVG_PROPS = [
  "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
  "stroke-linecap", "stroke-linejoin", "opacity", "font-family", "font-size", "font-weight",
  "text-anchor", "dominant-baseline",
];

export class FigureError extends Error {
  constructor(message) {
    super(message);
    this.name = "FigureError";
  }
}

function viewElement(name) {
  const el = document.querySelector(`[data-view="${CSS.escape(name)}"]`);
  if (!el) {
    const names = [...document.querySelectorAll("[data-view]")].map((v) => v.dataset.view);
    throw new FigureError(`There is no view called "${name}"; the views are ${names.join(", ")}.`);
  }
  return el;
}

// A view is drawn when its chapter shows it, says it is drawn, and nothing in it is loading.
function isDrawn(el) {
  const chapter = el.closest(".chapter");
  if (!chapter || chapter.hidden || chapter.dataset.drawn !== "true") return false;
  if (el.closest(".busy, [aria-busy=true]") || el.querySelector(".busy, [aria-busy=true]")) {
    return false;
  }
  return el.getBoundingClientRect().height > 0;
}

// Resolves once the view is drawn; a view still not drawn after `timeout` ms is an error.
export function whenDrawn(name, timeout = 60000) {
  const el = viewElement(name);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    function check() {
      if (isDrawn(el)) resolve(el);
      else if (performance.now() - start > timeout) {
        const chapter = el.closest(".chapter")?.id ?? "the page";
        reject(new FigureError(`The view "${name}" was not drawn within ${timeout / 1000} s; ` +
          `open ${chapter} first and wait until it shows.`));
      } else setTimeout(check, 50);
    }
    check();
  });
}

const PAINTS = { fill: "fill-opacity", stroke: "stroke-opacity", "stop-color": "stop-opacity" };
const colours = new Map();
let painter = null;

// Any CSS colour as its sRGB bytes, read back from a canvas: the page may compute colours in
// forms (color(srgb …), color-mix) that other programs' SVG readers do not know.
function rgba(colour) {
  if (!colours.has(colour)) {
    painter ??= document.createElement("canvas").getContext("2d", { willReadFrequently: true });
    const ctx = painter;
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 1, 1);
    colours.set(colour, [...ctx.getImageData(0, 0, 1, 1).data]);
  }
  return colours.get(colour);
}

const isPainted = (colour) => Boolean(colour) && rgba(colour)[3] > 0;

// A colour attribute as #rrggbb, with its alpha as the matching opacity attribute.
function setPaint(node, key, value) {
  if (value === "none" || value.startsWith("url(")) return node.setAttribute(key, value);
  const [r, g, b, a] = rgba(value);
  node.setAttribute(key, `#${[r, g, b].map((x) => x.toString(16).padStart(2, "0")).join("")}`);
  if (a < 255) node.setAttribute(PAINTS[key], String(round(a / 255)));
}

function make(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key in PAINTS) setPaint(node, key, String(value));
    else node.setAttribute(key, String(value));
  }
  return node;
}

const round = (x) => Math.round(x * 100) / 100;

// A laid-out rectangle in the figure's coordinates.
function place(rect, origin) {
  return {
    x: round(rect.left - origin.left), y: round(rect.top - origin.top),
    width: round(rect.width), height: round(rect.height),
  };
}


// --- boxes -------------------------------------------------------------------------------------

const COLOUR = /(?:rgba?|color)\([^)]*\)/g;

// Hard-edged stripes (repeating-linear-gradient(135deg, a 0px, a 6px, b 6px, b 8px)) as an SVG
// pattern: one period of bands, turned to the gradient's angle.
function stripes(image, figure) {
  const angle = Number(image.match(/^repeating-linear-gradient\((-?[\d.]+)deg/)?.[1]);
  const stops = [...image.matchAll(/((?:rgba?|color)\([^)]*\))\s+(-?[\d.]+)px/g)];
  const period = Number(stops.at(-1)?.[2]);
  if (Number.isNaN(angle) || !(period > 0)) return null;
  const id = `p${figure.ids++}`;
  const pattern = make("pattern", {
    id, width: period, height: period, patternUnits: "userSpaceOnUse",
    patternTransform: `rotate(${angle - 90})`, // CSS 90deg runs left to right, a band per x
  });
  stops.slice(0, -1).forEach(([, colour, from], i) => {
    const width = Number(stops[i + 1][2]) - Number(from);
    if (width > 0) pattern.append(make("rect", { x: from, width, height: period, fill: colour }));
  });
  figure.defs.append(pattern);
  return `url(#${id})`;
}

// A CSS gradient as an SVG one: left to right or top to bottom through its colours, or stripes;
// any other kind of gradient is filled with its first colour.
function gradientFill(image, figure) {
  const stops = image.match(COLOUR);
  if (!stops) return null;
  if (image.startsWith("repeating-linear-gradient(")) return stripes(image, figure) ?? stops[0];
  if (!/^linear-gradient\((to right|to bottom|rgb|color)/.test(image)) return stops[0];
  const id = `g${figure.ids++}`;
  const across = image.startsWith("linear-gradient(to right");
  const gradient = make("linearGradient", { id, x2: across ? 1 : 0, y2: across ? 0 : 1 });
  stops.forEach((colour, i) => {
    const offset = stops.length > 1 ? i / (stops.length - 1) : 0;
    gradient.append(make("stop", { offset, "stop-color": colour }));
  });
  figure.defs.append(gradient);
  return `url(#${id})`;
}

// Solid shadows (no blur), as the chosen word's underline is drawn.
function drawShadow(cs, at, radius, parent) {
  const found = cs.boxShadow.match(/^((?:rgba?|color)\([^)]*\)) (-?[\d.]+)px (-?[\d.]+)px 0px/);
  if (!found) return;
  const [, colour, dx, dy] = found;
  const shadow = { ...at, x: at.x + Number(dx), y: at.y + Number(dy), rx: radius, fill: colour };
  parent.append(make("rect", shadow));
}

// A border of four equal sides as one outline; otherwise each side as a strip of its own, and a
// box of no size with one coloured side (a CSS triangle) as a triangle.
function drawBorders(cs, at, radius, parent) {
  const sides = ["Top", "Right", "Bottom", "Left"].map((side) => ({
    side,
    width: parseFloat(cs[`border${side}Width`]) || 0,
    colour: cs[`border${side}Color`],
    shown: cs[`border${side}Style`] !== "none" && cs[`border${side}Style`] !== "hidden",
  }));
  const drawn = sides.filter((s) => s.shown && s.width > 0 && isPainted(s.colour));
  if (!drawn.length) return;
  const [top, right, bottom, left] = sides.map((s) => s.width);
  const alike = (s) => s.width === top && s.colour === drawn[0].colour;
  const same = drawn.length === 4 && drawn.every(alike);
  if (same) {
    const inset = top / 2;
    const outline = make("rect", {
      x: at.x + inset, y: at.y + inset, width: Math.max(0, at.width - top),
      height: Math.max(0, at.height - top), rx: Math.max(0, radius - inset), fill: "none",
      stroke: drawn[0].colour, "stroke-width": top,
    });
    const dash = { dashed: 3 * top, dotted: top }[cs.borderTopStyle];
    if (dash) outline.setAttribute("stroke-dasharray", `${dash} ${dash}`);
    parent.append(outline);
    return;
  }
  const inner = at.width - left - right <= 0.5 && at.height - top - bottom <= 0.5;
  if (inner && drawn.length === 1) return drawTriangle(drawn[0], at, parent);
  for (const s of drawn) {
    const strip = {
      Top: { x: at.x, y: at.y, width: at.width, height: s.width },
      Bottom: { x: at.x, y: at.y + at.height - s.width, width: at.width, height: s.width },
      Left: { x: at.x, y: at.y, width: s.width, height: at.height },
      Right: { x: at.x + at.width - s.width, y: at.y, width: s.width, height: at.height },
    }[s.side];
    parent.append(make("rect", { ...strip, fill: s.colour }));
  }
}

function drawTriangle(side, at, parent) {
  const { x, y, width: w, height: h } = at;
  const corners = {
    Bottom: [[x, y + h], [x + w, y + h], [x + w / 2, y]],
    Top: [[x, y], [x + w, y], [x + w / 2, y + h]],
    Left: [[x, y], [x, y + h], [x + w, y + h / 2]],
    Right: [[x + w, y], [x + w, y + h], [x, y + h / 2]],
  }[side.side];
  const points = corners.map((p) => p.join(",")).join(" ");
  parent.append(make("polygon", { points, fill: side.colour }));
}

function drawOutline(cs, at, parent) {
  const width = parseFloat(cs.outlineWidth) || 0;
  if (cs.outlineStyle === "none" || width === 0 || !isPainted(cs.outlineColor)) return;
  const grow = (parseFloat(cs.outlineOffset) || 0) + width / 2;
  parent.append(make("rect", {
    x: at.x - grow, y: at.y - grow, width: at.width + 2 * grow, height: at.height + 2 * grow,
    fill: "none", stroke: cs.outlineColor, "stroke-width": width,
  }));
}

function drawBox(cs, at, figure, parent) {
  // a pill's huge radius is cut to half its shorter side, as CSS does
  const radius = Math.min(parseFloat(cs.borderTopLeftRadius) || 0, at.width / 2, at.height / 2);
  if (cs.boxShadow !== "none") drawShadow(cs, at, radius, parent);
  const gradient = cs.backgroundImage !== "none" ? gradientFill(cs.backgroundImage, figure) : null;
  const fill = gradient ?? (isPainted(cs.backgroundColor) ? cs.backgroundColor : null);
  if (fill) parent.append(make("rect", { ...at, rx: radius, fill }));
  drawBorders(cs, at, radius, parent);
  drawOutline(cs, at, parent);
}

// The text a ::before or ::after shows: a string, or a quotation mark of the element's quotes.
function pseudoText(cs, which) {
  if (/^".+"$/.test(cs.content)) return JSON.parse(cs.content);
  const marks = [...cs.quotes.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  if (cs.content === "open-quote") return marks[0] ?? (which === "::before" ? "“" : "");
  if (cs.content === "close-quote") return marks[1] ?? "”";
  return "";
}

// An inline ::before or ::after with text (quotation marks, a footnote star), drawn before the
// element's first line or after its last.
function drawPseudoText(el, own, which, cs, figure, parent) {
  const rects = el.getClientRects();
  const words = pseudoText(cs, which);
  if (!rects.length || !words) return;
  const line = which === "::before" ? rects[0] : rects[rects.length - 1];
  const edge = (side) => parseFloat(own[`padding${side}`]) + parseFloat(own[`border${side}Width`]);
  const x = which === "::before"
    ? line.left + edge("Left")
    : line.right - edge("Right") - measuring(fontOf(cs)).measureText(words).width;
  parent.append(textAt(words, cs, x - figure.origin.left,
    baselineIn(cs, line.top, line.height) - figure.origin.top));
}

// A ::before or ::after: text is drawn in its line; a positioned one with no text (a rule or a
// pointer) as its box, where the browser puts it inside the element's padding box.
function drawPseudo(el, own, which, box, figure, parent) {
  const cs = getComputedStyle(el, which);
  if (cs.display === "none" || cs.content === "none" || cs.content === "normal") return;
  if (cs.content !== '""') return drawPseudoText(el, own, which, cs, figure, parent);
  if (cs.position !== "absolute") return;
  const matrix = new DOMMatrixReadOnly(cs.transform === "none" ? undefined : cs.transform);
  const px = (...names) => names.reduce((sum, name) => sum + (parseFloat(cs[name]) || 0), 0);
  const content = cs.boxSizing === "content-box"; // the page's border-box rule skips pseudos
  const rect = {
    left: box.left + parseFloat(own.borderLeftWidth) + parseFloat(cs.left) + matrix.e,
    top: box.top + parseFloat(own.borderTopWidth) + parseFloat(cs.top) + matrix.f,
    width: px("width") + (content ? px("paddingLeft", "paddingRight", "borderLeftWidth",
      "borderRightWidth") : 0),
    height: px("height") + (content ? px("paddingTop", "paddingBottom", "borderTopWidth",
      "borderBottomWidth") : 0),
  };
  drawBox(cs, place(rect, figure.origin), figure, parent);
}

// --- text --------------------------------------------------------------------------------------

let measurer = null;
const metrics = new Map();

// A canvas context set to the font, for measuring text.
function measuring(font) {
  measurer ??= document.createElement("canvas").getContext("2d");
  measurer.font = font;
  return measurer;
}

const fontOf = (cs) => `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;

// The font's ascent, and its ascent plus descent: the box a line of it fills.
function fontMetrics(cs) {
  const font = fontOf(cs);
  if (!metrics.has(font)) {
    const m = measuring(font).measureText("Hg");
    const { fontBoundingBoxAscent: ascent, fontBoundingBoxDescent: descent } = m;
    metrics.set(font, { ascent, height: ascent + descent });
  }
  return metrics.get(font);
}

// Where the baseline sits when the font's text is centred in a box from top, height tall.
function baselineIn(cs, top, height) {
  const font = fontMetrics(cs);
  return top + (height - font.height) / 2 + font.ascent;
}

// One line of text in the element's style, at x and the baseline y of the figure.
function textAt(words, cs, x, y) {
  const text = make("text", { x: round(x), y: round(y), ...textStyle(cs) });
  text.setAttributeNS(XML_NS, "xml:space", "preserve");
  text.textContent = words;
  return text;
}

function textStyle(cs) {
  const style = {
    fill: cs.color, "font-family": cs.fontFamily, "font-size": cs.fontSize,
    "font-weight": cs.fontWeight,
  };
  if (cs.fontStyle !== "normal") style["font-style"] = cs.fontStyle;
  if (cs.letterSpacing !== "normal") style["letter-spacing"] = cs.letterSpacing;
  if (cs.fontVariantNumeric !== "normal") style["font-variant-numeric"] = cs.fontVariantNumeric;
  return style;
}

function cased(text, transform) {
  if (transform === "uppercase") return text.toUpperCase();
  if (transform === "lowercase") return text.toLowerCase();
  return text;
}

// The pieces of a text node as laid out: one per line the browser wrapped it onto.
function lineRuns(node) {
  const range = document.createRange();
  const runs = [];
  for (const word of node.textContent.matchAll(/\S+/g)) {
    range.setStart(node, word.index);
    range.setEnd(node, word.index + word[0].length);
    const rect = range.getBoundingClientRect();
    if (rect.width === 0) continue;
    const last = runs.at(-1);
    if (last && Math.abs(last.rect.top - rect.top) < 1 && rect.left >= last.rect.right - 1) {
      last.end = word.index + word[0].length;
      last.rect = { ...last.rect, right: rect.right };
    } else {
      runs.push({ start: word.index, end: word.index + word[0].length, rect: {
        left: rect.left, right: rect.right, top: rect.top, height: rect.height } });
    }
  }
  return runs;
}

// A line through or under one run of text, set on the element that holds it.
function decorate(cs, rect, baseline, ascent, figure, parent) {
  const kind = cs.textDecorationLine;
  if (kind === "none") return;
  const thickness = Math.max(1, parseFloat(cs.fontSize) / 14);
  const ys = [];
  if (kind.includes("line-through")) ys.push(baseline - 0.3 * ascent);
  if (kind.includes("underline")) ys.push(baseline + 2 * thickness);
  for (const y of ys) {
    parent.append(make("rect", {
      x: round(rect.left - figure.origin.left), y: round(y - thickness / 2 - figure.origin.top),
      width: round(rect.right - rect.left), height: round(thickness),
      fill: cs.textDecorationColor,
    }));
  }
}

function drawText(node, cs, figure, parent) {
  if (!node.textContent.trim() || cs.visibility === "hidden") return;
  for (const run of lineRuns(node)) {
    const baseline = baselineIn(cs, run.rect.top, run.rect.height);
    decorate(cs, run.rect, baseline, fontMetrics(cs).ascent, figure, parent);
    const shown = node.textContent.slice(run.start, run.end);
    const kept = cs.whiteSpace.startsWith("pre") ? shown : shown.replace(/\s+/g, " ");
    const words = cased(kept, cs.textTransform);
    parent.append(textAt(words, cs, run.rect.left - figure.origin.left,
      baseline - figure.origin.top));
  }
}

// A select shows its chosen option; a text or number field its value.
function drawField(el, cs, at, figure, parent) {
  const value = el instanceof HTMLSelectElement ? el.selectedOptions[0]?.text : el.value;
  if (!value) return;
  const x = at.x + parseFloat(cs.paddingLeft) + parseFloat(cs.borderLeftWidth);
  parent.append(textAt(value, cs, x, baselineIn(cs, at.y, at.height)));
}

// --- pictures ----------------------------------------------------------------------------------

function drawImage(href, at, cs, parent) {
  const image = make("image", { ...at, preserveAspectRatio: "none" });
  image.setAttribute("href", href);
  image.setAttributeNS(XLINK_NS, "xlink:href", href);
  // the legacy name of "pixelated", which more programs read
  if (cs.imageRendering === "pixelated") image.setAttribute("image-rendering", "optimizeSpeed");
  parent.append(image);
}

// The page's own SVG drawing, its styles written onto each element, placed where it was laid out.
function copySvg(svg, at) {
  const copy = svg.cloneNode(true);
  const sources = [svg, ...svg.querySelectorAll("*")];
  [copy, ...copy.querySelectorAll("*")].forEach((node, i) => {
    const cs = getComputedStyle(sources[i]);
    for (const prop of SVG_PROPS) {
      const value = cs.getPropertyValue(prop);
      if (!value || value === "normal" || value === "auto") continue;
      if (prop in PAINTS) setPaint(node, prop, value);
      else node.setAttribute(prop, value);
    }
    node.removeAttribute("class");
    node.removeAttribute("style");
    if (cs.display === "none") node.setAttribute("display", "none");
  });
  for (const [key, value] of Object.entries(at)) copy.setAttribute(key, value);
  copy.setAttribute("overflow", "visible");
  return copy;
}

// --- the walk ----------------------------------------------------------------------------------

function clipTo(at, figure, parent) {
  const id = `c${figure.ids++}`;
  const clip = make("clipPath", { id });
  clip.append(make("rect", at));
  figure.defs.append(clip);
  const group = make("g", { "clip-path": `url(#${id})` });
  parent.append(group);
  return group;
}

function drawElement(el, figure, parent) {
  if (el.matches(SKIP)) return;
  const cs = getComputedStyle(el);
  if (cs.display === "none" || cs.clipPath !== "none") return; // clipped away: for screen readers
  const box = el.getBoundingClientRect();
  const at = place(box, figure.origin);
  let group = parent;
  if (Number(cs.opacity) < 1) {
    group = make("g", { opacity: cs.opacity });
    parent.append(group);
  }
  if (cs.visibility !== "hidden") drawBox(cs, at, figure, group);
  if (el instanceof HTMLCanvasElement) return drawImage(el.toDataURL("image/png"), at, cs, group);
  if (el instanceof HTMLImageElement) return drawImage(el.currentSrc, at, cs, group);
  if (el instanceof SVGSVGElement) return group.append(copySvg(el, at));
  if (el instanceof HTMLSelectElement || el instanceof HTMLInputElement) {
    if (el.type !== "checkbox" && el.type !== "radio" && el.type !== "range") {
      drawField(el, cs, at, figure, group);
    }
    return;
  }
  drawPseudo(el, cs, "::before", box, figure, group);
  const clipped = cs.overflowX !== "visible" || cs.overflowY !== "visible";
  const inner = clipped ? clipTo(at, figure, group) : group;
  for (const child of el.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) drawText(child, cs, figure, inner);
    else if (child.nodeType === Node.ELEMENT_NODE) drawElement(child, figure, inner);
  }
  drawPseudo(el, cs, "::after", box, figure, group);
}

function wrapLines(text, font, width) {
  const ctx = measuring(font);
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

// The figure as SVG text. caption: lines of plain text written under the view. The controls
// are taken out of the layout while the view is measured, and put back before the page paints.
export function toSvg(el, caption) {
  const root = document.documentElement;
  root.classList.add("figure-mode");
  try {
    return drawFigure(el, caption);
  } finally {
    root.classList.remove("figure-mode");
  }
}

function drawFigure(el, caption) {
  const box = el.getBoundingClientRect();
  const page = getComputedStyle(document.documentElement);
  const width = Math.ceil(box.width) + 2 * PADDING;
  const viewHeight = Math.ceil(box.height);
  const lines = caption.flatMap((line, i) => {
    const weight = i === 0 ? "700" : "400";
    return wrapLines(line, `${weight} ${CAPTION_SIZE}px ${page.fontFamily}`, box.width)
      .map((text) => ({ text, weight }));
  });
  const height = viewHeight + 2 * PADDING + lines.length * CAPTION_LINE + (lines.length ? 8 : 0);

  const svg = make("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
  svg.setAttributeNS("http://www.w3.org/2000/xmlns/", "xmlns:xlink", XLINK_NS);
  const defs = make("defs");
  svg.append(defs, make("rect", { width, height, fill: page.backgroundColor }));
  const view = make("g", { transform: `translate(${PADDING} ${PADDING})` });
  svg.append(view);
  drawElement(el, { origin: box, defs, ids: 0 }, view);

  const captionGroup = make("g", {
    "font-family": page.fontFamily, "font-size": CAPTION_SIZE, fill: page.color,
  });
  lines.forEach(({ text, weight }, i) => {
    const y = viewHeight + 2 * PADDING + 8 + i * CAPTION_LINE;
    const line = make("text", { x: PADDING, y, "font-weight": weight });
    line.textContent = text;
    captionGroup.append(line);
  });
  svg.append(captionGroup);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}\n`;
}

// The SVG drawn at twice its size onto a canvas, as PNG bytes.
export async function toPng(svg) {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth * PNG_SCALE;
  canvas.height = img.naturalHeight * PNG_SCALE;
  const ctx = canvas.getContext("2d");
  ctx.scale(PNG_SCALE, PNG_SCALE);
  ctx.drawImage(img, 0, 0);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      if (blob) resolve(blob);
      else reject(new FigureError("The browser could not turn this figure into a PNG."));
    }, "image/png");
  });
}

// --- captions ------------------------------------------------------------------------------------

// The view's title: its own heading, else the nearest heading before it.
function titleOf(el) {
  const own = el.querySelector("h3, h4");
  if (own && el.tagName !== "FIGURE" && !el.classList.contains("row")) {
    return own.textContent.trim();
  }
  for (let node = el; node; node = node.previousElementSibling ?? node.parentElement) {
    if (/^H[23]$/.test(node.tagName)) return node.textContent.trim();
  }
  return el.dataset.view;
}

const quoted = (text) => `“${text}”`;

// What the figure shows, in words: the title, the sentence or prompt with the head and word
// chosen, and the model.
export function captionFor(el, state, info) {
  const chapter = chapterOf(el);
  const view = el.dataset.view;
  const lines = [titleOf(el)];
  const at = headOf(chapter, state);
  if (view === "roles") {
    lines.push("Scores measured on the model's own probes, the same for every prompt.");
  } else if (chapter === 3) {
    const prompt = document.getElementById("c3-text")?.value || state.prompt;
    const target = document.querySelector("#chapter-3 .c3-target")?.textContent ?? "";
    lines.push(`Prompt ${quoted(prompt)}, following the answer ${quoted(target)}.`);
  } else if (view === "weights") {
    lines.push(`Layer ${at?.layer}, head ${at?.head}: weights, the same for every sentence.`);
  } else {
    const text = chapter === 1 ? state.text : document.getElementById("c2-text")?.value;
    const parts = [`Sentence ${quoted(text || state.text)}`];
    if (at && view !== "heads") parts.push(`layer ${at.layer}, head ${at.head}`);
    const word = chapter === 1
      ? document.querySelector("#chapter-1 .ch1-chip.is-query [data-slot=text]")
      : document.querySelector('[data-c2="word"] option:checked');
    if (word && view !== "heads") {
      parts.push(`the word ${quoted(word.textContent.trim())} listening`);
    }
    lines.push(`${parts.join(", ")}.`);
  }
  const name = info.model.name;
  const model = chapter !== 2 || (view !== "twins" && !state.untrained)
    ? name
    : view === "twins" ? `${name} and its untrained twin` : `the untrained twin of ${name}`;
  lines.push(`Model: ${model}. Computed by cocktail-party.`);
  return lines;
}

const chapterOf = (el) => Number(el.closest(".chapter")?.id.replace("chapter-", ""));

// The layer and head on show: chapter 2 has pickers of its own.
function headOf(chapter, state) {
  if (chapter === 2) {
    const [layer, head] = ["layer", "head"].map((k) => document.querySelector(`[data-c2="${k}"]`));
    return layer?.value && head?.value ? { layer: layer.value, head: head.value } : null;
  }
  return state.layer !== null && state.head !== null ? state : null;
}

function fileName(el, state, format) {
  const chapter = chapterOf(el);
  const at = headOf(chapter, state);
  const bits = [el.dataset.view];
  if (chapter === 3) bits.push("prompt");
  else if (at && el.dataset.view !== "heads") bits.push(`L${at.layer}H${at.head}`);
  return `cocktail-party-${bits.join("-")}.${format}`;
}

// The figure of a view, once it is drawn: {blob, name}, an SVG or PNG and a file name for it.
export async function renderFigure(name, format, { store, info }) {
  if (format !== "svg" && format !== "png") {
    throw new FigureError(`A figure is saved as "svg" or "png", not "${format}".`);
  }
  const el = await whenDrawn(name);
  const state = store.get();
  const svg = toSvg(el, captionFor(el, state, info));
  const blob = format === "svg" ? new Blob([svg], { type: "image/svg+xml" }) : await toPng(svg);
  return { blob, name: fileName(el, state, format) };
}
