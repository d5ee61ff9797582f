// A page showing work in progress (a report being built, an import being checked) reloads
// itself every few seconds, and its reader can pause that and resume it (WCAG 2.2.1, which a
// <meta http-equiv="refresh"> fails). The markup: templates/includes/auto_refresh.html.
(() => {
  "use strict";

  function start(box) {
    const seconds = Number.parseInt(box.dataset.refreshSeconds, 10);
    if (!(seconds > 0)) return;
    const toggle = box.querySelector("[data-refresh-toggle]");
    let timer = null;

    const run = () => {
      timer = window.setTimeout(() => window.location.reload(), seconds * 1000);
    };
    const pause = () => {
      window.clearTimeout(timer);
      timer = null;
    };

    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", () => {
        const paused = timer === null;
        if (paused) run();
        else pause();
        toggle.textContent = paused ? toggle.dataset.pauseLabel : toggle.dataset.resumeLabel;
      });
    }
    run();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-refresh-seconds]").forEach(start);
  });
})();
