// Chapter 2 (being written).

export function initChapter2(root, ctx) {
  root.dataset.started = "true";
}
