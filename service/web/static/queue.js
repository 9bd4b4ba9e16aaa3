// Review queue: select several high-confidence items and confirm them together.
"use strict";
(function () {
  const button = document.getElementById("batch-confirm");
  const count = document.getElementById("batch-count");
  const message = document.getElementById("batch-message");
  const all = document.getElementById("select-all");
  if (!button) return;   // only the 待审核 view confirms in batches
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
    let done = 0;
    for (const c of picks().filter(function (x) { return x.checked; })) {
      const got = await gk.api("POST", "/documents/" + c.value + "/review", { action: "confirm" });
      if (got.ok) { c.closest("tr").remove(); done += 1; } else failed.push(gk.errorText(got));
    }
    // say what happened: how many were confirmed, and why any were not
    message.textContent = "已批量确认 " + done + " 件。" +
      (failed.length ? "有 " + failed.length + " 件未能确认：" + failed[0] : "");
    message.className = failed.length ? "alert" : "alert ok";
    message.hidden = false;
    update();
  });
})();
