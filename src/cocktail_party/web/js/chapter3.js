// Chapter 3 (being written).

export function initChapter3(root, ctx) {
  root.dataset.started = "true";
}
