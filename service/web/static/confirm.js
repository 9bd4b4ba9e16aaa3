// Every page: a form with data-confirm="…" asks before it is sent (cancel, apply, roll back, 定稿).
"use strict";
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
