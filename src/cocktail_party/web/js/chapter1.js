// Chapter 1 (being written).

export function initChapter1(root, ctx) {
  root.dataset.started = "true";
}
