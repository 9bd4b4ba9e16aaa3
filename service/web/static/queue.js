// Review queue: select several high-confidence items and confirm them together.
"use strict";
(function () {
  const button = document.getElementById("batch-confirm");
  const count = document.getElementById("batch-count");
  const message = document.getElementById("batch-message");
  const all = document.getElementById("select-all");
  const picks = function () { return Array.from(document.querySelectorAll("input.pick")); };
  function update() {
    const n = picks().filter(function (c) { return c.checked; }).length;
    count.textContent = n;
    button.disabled = n === 0;
  }
  picks().forEach(function (c) { c.addEventListener("change", update); });
  all.addEventListener("change", function () { picks().forEach(function (c) { c.checked = all.checked; }); update(); });
  button.addEventListener("click", async function () {
    button.disabled = true;
    const failed = [];
    for (const c of picks().filter(function (x) { return x.checked; })) {
      const got = await gk.api("POST", "/documents/" + c.value + "/review", { action: "confirm" });
      if (got.ok) c.closest("tr").remove(); else failed.push(gk.errorText(got));
    }
    if (failed.length) { message.textContent = "有 " + failed.length + " 件未能确认：" + failed[0]; message.hidden = false; }
    update();
  });
})();
