// Click a figure to see it at full resolution; click again or press Escape to close.
// (Added by book/_ext/book_pages.py.)
(function () {
  "use strict";
  function close(overlay) {
    overlay.remove();
    document.removeEventListener("keydown", overlay.onKey);
  }
  function open(img) {
    var overlay = document.createElement("div");
    overlay.className = "nntrain-zoom";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "figure at full size (click or Escape to close)");
    var big = document.createElement("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt || "";
    overlay.appendChild(big);
    overlay.addEventListener("click", function () { close(overlay); });
    overlay.onKey = function (event) { if (event.key === "Escape") close(overlay); };
    document.addEventListener("keydown", overlay.onKey);
    document.body.appendChild(overlay);
  }
  function init() {
    var images = document.querySelectorAll(".bd-article div.cell_output img, .bd-article figure img");
    images.forEach(function (img) {
      if (img.closest("a")) return; // already a link
      img.classList.add("nntrain-zoomable");
      img.title = img.title || "click to enlarge";
      img.addEventListener("click", function () { open(img); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
