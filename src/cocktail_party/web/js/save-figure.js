// The "Save SVG" and "Save PNG" buttons above every view. The code that draws a figure
// (figure.js) loads on the first click, so a page that never saves one never fetches it.

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// A pair of buttons just above every view (or only the named one): save it as SVG or as PNG.
export function initFigures(ctx, onError, only = null) {
  for (const el of document.querySelectorAll("[data-view]")) {
    if (only !== null && el.dataset.view !== only) continue;
    const bar = document.createElement("div");
    bar.className = "figure-save";
    bar.dataset.for = el.dataset.view;
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Save this view as a figure");
    for (const format of ["svg", "png"]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Save ${format.toUpperCase()}`;
      button.dataset.format = format;
      button.addEventListener("click", () => {
        import("./figure.js")
          .then(({ renderFigure }) => renderFigure(el.dataset.view, format, ctx))
          .then(({ blob, name }) => download(blob, name))
          .catch(onError);
      });
      bar.append(button);
    }
    el.before(bar);
  }
}
