// A second click on a form's button while the first is on its way is ignored (the server
// also refuses to save a form twice: desmigratif/submit_once.py). The form is free again after
// a few seconds, or when the page comes back from the browser's history, since a form that
// answers with a file download leaves the page where it was.
(() => {
  "use strict";
  const FREE_AGAIN_MS = 8000;

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.sending === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    form.setAttribute("aria-busy", "true");
    window.setTimeout(() => {
      delete form.dataset.sending;
      form.removeAttribute("aria-busy");
    }, FREE_AGAIN_MS);
  });

  window.addEventListener("pageshow", () => {
    document.querySelectorAll("form[data-sending]").forEach((form) => {
      delete form.dataset.sending;
      form.removeAttribute("aria-busy");
    });
  });
})();
