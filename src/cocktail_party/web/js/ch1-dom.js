// Small DOM helpers for chapter 1: named parts of the page, text slots, templates, number formats.

// refs collects the elements marked data-ref="name" inside root, by name.
export function refs(root) {
  const found = {};
  for (const el of root.querySelectorAll("[data-ref]")) found[el.dataset.ref] = el;
  return found;
}

// fill writes values into the data-slot elements inside scope, always as plain text.
export function fill(scope, values) {
  for (const el of scope.querySelectorAll("[data-slot]")) {
    if (el.dataset.slot in values) el.textContent = String(values[el.dataset.slot]);
  }
}

export function clone(template) {
  return template.content.firstElementChild.cloneNode(true);
}

export function percent(w, digits = 1) {
  return `${(w * 100).toFixed(digits)}%`;
}

export function fixed(x, digits = 2) {
  return x.toFixed(digits).replace("-", "−");
}

// A token as the model sees it: a leading space shown as a dot, a line break as ↵.
export function tokenLabel(text) {
  return text.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "⇥");
}

// A word as a reader sees it: the spaces that belong to its first token dropped.
export function wordLabel(text) {
  const trimmed = text.replace(/\n/g, "↵").trim();
  return trimmed || tokenLabel(text);
}
