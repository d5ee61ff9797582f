"use strict";
// The periodic task form of django-celery-beat: shows the chosen crontab in words under the
// field. Loaded as a file instead of the package's inline script (strict CSP); text is added as
// text, never as HTML.
(function () {
  const $ = django.jQuery;
  const readableCrontabs = JSON.parse(document.getElementById("readable-crontabs").textContent);
  const help = document.querySelector(".field-crontab .help");
  const originalHelp = help ? help.textContent : "";

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    if (!help) {
      return;
    }
    const readable = readableCrontabs[$("#id_crontab").val()];
    help.textContent = originalHelp;
    if (readable) {
      help.append(document.createElement("br"), "Translation: " + readable);
    }
  });
})();
