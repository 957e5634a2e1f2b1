// Chapter 3's head roles: for each measured role, a grid of every head's score (layers down,
// heads across) and the top heads as buttons that remove the head and rerun.

import { mix, rgb } from "./ch2-figures.js";
import { headButton, headCut } from "./ch3-parts.js";

const TOP = 5;
const CELL = { w: 18, h: 11 };
const MARGIN = { left: 30, top: 18 };
const PALE = [247, 246, 242];
const PURPLE = [84, 39, 136];

function shade(v) {
  return rgb(mix(PALE, PURPLE, Math.max(0, Math.min(1, v))));
}

function roleTitle(role) {
  const words = role.replaceAll("_", " ");
  return words[0].toUpperCase() + words.slice(1);
}

function drawGrid(canvas, scores, cursor = null) {
  const nLayers = scores.length;
  const nHeads = scores[0].length;
  const width = MARGIN.left + nHeads * CELL.w;
  const height = MARGIN.top + nLayers * CELL.h;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#1b1f24";
  ctx.textAlign = "center";
  for (let h = 0; h < nHeads; h++) ctx.fillText(String(h), MARGIN.left + (h + 0.5) * CELL.w, 11);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  scores.forEach((row, layer) => {
    const y = MARGIN.top + layer * CELL.h;
    if (layer % 5 === 0) {
      ctx.fillStyle = "#1b1f24";
      ctx.fillText(String(layer), MARGIN.left - 5, y + CELL.h / 2);
    }
    row.forEach((v, h) => {
      ctx.fillStyle = shade(v);
      ctx.fillRect(MARGIN.left + h * CELL.w, y, CELL.w - 1, CELL.h - 1);
    });
  });
  if (cursor) {
    // the keyboard's place: a thick outline, so it shows on any shade
    ctx.strokeStyle = "#f2b705";
    ctx.lineWidth = 2;
    const [layer, head] = cursor;
    const x = MARGIN.left + head * CELL.w;
    ctx.strokeRect(x, MARGIN.top + layer * CELL.h, CELL.w - 1, CELL.h - 1);
  }
}

const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

// Arrow keys walk the grid, Enter or Space removes the head under the outline.
function keyboard(canvas, scores, title, store) {
  let cursor = [0, 0];
  const describe = () => {
    const [layer, head] = cursor;
    const score = scores[layer][head].toFixed(2);
    canvas.setAttribute(
      "aria-label",
      `${title} score of every head; layer ${layer}, head ${head}: ${score}. ` +
        "Arrow keys move, Enter removes this head.",
    );
  };
  canvas.tabIndex = 0;
  describe();
  canvas.addEventListener("focus", () => drawGrid(canvas, scores, cursor));
  canvas.addEventListener("blur", () => drawGrid(canvas, scores));
  canvas.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      store.set({ ablate: headCut(...cursor) });
      return;
    }
    const move = MOVES[event.key];
    if (!move) return;
    event.preventDefault();
    const layer = Math.max(0, Math.min(scores.length - 1, cursor[0] + move[0]));
    const head = Math.max(0, Math.min(scores[0].length - 1, cursor[1] + move[1]));
    cursor = [layer, head];
    describe();
    drawGrid(canvas, scores, cursor);
  });
}

// The head under a click on a grid, or null.
function headAt(canvas, event, scores) {
  const box = canvas.getBoundingClientRect();
  const head = Math.floor((event.clientX - box.left - MARGIN.left) / CELL.w);
  const layer = Math.floor((event.clientY - box.top - MARGIN.top) / CELL.h);
  const inside = layer >= 0 && layer < scores.length && head >= 0 && head < scores[0].length;
  return inside ? [layer, head] : null;
}

export function initRoles(el, store) {
  const template = el("role");

  function show(answer) {
    const figures = Object.entries(answer.scores).map(([role, scores]) => {
      const figure = template.content.firstElementChild.cloneNode(true);
      const part = (key) => figure.querySelector(`[data-r="${key}"]`);
      figure.dataset.role = role;
      part("name").textContent = roleTitle(role);
      part("definition").textContent = answer.definitions[role];
      const canvas = part("grid");
      drawGrid(canvas, scores);
      keyboard(canvas, scores, roleTitle(role), store);
      canvas.addEventListener("click", (event) => {
        const hit = headAt(canvas, event, scores);
        if (hit) store.set({ ablate: headCut(...hit) });
      });
      const ranked = scores.flatMap((row, layer) => row.map((v, head) => ({ layer, head, v })));
      ranked.sort((a, b) => b.v - a.v);
      part("top").replaceChildren(
        ...ranked.slice(0, TOP).map(({ layer, head, v }) => {
          const li = document.createElement("li");
          li.append(headButton(store, layer, head, v.toFixed(2)));
          return li;
        }),
      );
      return figure;
    });
    el("roles").replaceChildren(...figures);
  }

  return { show };
}
