"use strict";
// The "select all" box of the export page, bound here instead of an inline onchange attribute
// (strict CSP). onSelectToggleChange comes from import_export/export_selectable_fields.js.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input.select-toggle").forEach((toggle) => {
    toggle.addEventListener("change", onSelectToggleChange);
  });
});
