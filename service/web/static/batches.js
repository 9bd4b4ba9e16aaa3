// Batch reclassification pages: live progress bars (confirmations: confirm.js).
// Progress comes from /admin/batches/progress (the batch rows in the database), polled every
// second while a batch on the page is computing; rate and ETA are measured between polls.
"use strict";
(function () {
  const POLL_MS = 1000;
  const seen = {};  // batch id -> {t, done} of the first poll that saw it computing

  function bars() { return Array.from(document.querySelectorAll(".progress[data-batch]")); }
  function computing() { return bars().filter(function (b) { return b.dataset.status === "computing"; }); }

  function duration(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "—";
    if (seconds < 60) return Math.ceil(seconds) + " 秒";
    if (seconds < 3600) return Math.floor(seconds / 60) + " 分 " + Math.round(seconds % 60) + " 秒";
    return Math.floor(seconds / 3600) + " 小时 " + Math.round((seconds % 3600) / 60) + " 分";
  }

  function rateText(b, now) {
    if (b.status !== "computing") return "";
    const first = seen[b.batch_id];
    if (!first) { seen[b.batch_id] = { t: now, done: b.done }; return "速率计算中…"; }
    const elapsed = (now - first.t) / 1000;
    const rate = elapsed > 0 ? (b.done - first.done) / elapsed : 0;
    if (rate <= 0) return "等待处理进程…";
    return "约 " + (rate >= 10 ? Math.round(rate) : rate.toFixed(1)) + " 件/秒 · 预计剩余 " + duration((b.total - b.done) / rate);
  }

  function update(b, now) {
    const id = String(b.batch_id);
    let reload = false;
    document.querySelectorAll('.progress[data-batch="' + id + '"]').forEach(function (el) {
      const was = el.dataset.status;
      el.dataset.status = b.status;
      el.dataset.done = b.done;
      el.dataset.total = b.total;
      el.querySelector(".bar > span").style.width = b.percent + "%";
      el.querySelector(".bar").setAttribute("aria-valuenow", b.percent);
      el.querySelector(".progress-text").textContent = b.done + " / " + b.total + " 件（" + Number(b.percent).toFixed(1) + "%）";
      el.querySelector(".progress-rate").textContent = rateText(b, now);
      if (was === "computing" && b.status !== "computing" && el.hasAttribute("data-reload-when-done")) reload = true;
    });
    document.querySelectorAll('.batch-status[data-batch="' + id + '"]').forEach(function (el) {
      el.textContent = b.status_zh;
      el.className = "batch-status state-batch-" + b.status;
    });
    document.querySelectorAll('[data-show-when][data-batch="' + id + '"]').forEach(function (el) {
      el.hidden = el.dataset.showWhen !== b.status;
    });
    const c = b.counts || {};
    if (c.change !== undefined) {
      document.querySelectorAll('.batch-counts[data-batch="' + id + '"]').forEach(function (el) {
        el.textContent = [c.change || 0, c.same || 0, c.disagreement || 0, c.no_tokens || 0].join(" / ");
      });
    }
    return reload;
  }

  async function poll() {
    const ids = computing().map(function (el) { return el.dataset.batch; });
    if (!ids.length) return;
    let reload = false;
    try {
      const response = await fetch("/admin/batches/progress?ids=" + Array.from(new Set(ids)).join(","),
        { credentials: "same-origin", headers: { "Accept": "application/json", "X-Gongkai-Poll": "1" },
          cache: "no-store" });
      if (response.ok) {
        const data = await response.json();
        const now = Date.now();
        data.batches.forEach(function (b) { if (update(b, now)) reload = true; });
      }
    } catch (e) {
      // a passing network error: try again at the next tick
    }
    if (reload) { window.location.reload(); return; }
    if (computing().length) window.setTimeout(poll, POLL_MS);
  }

  if (computing().length) window.setTimeout(poll, POLL_MS);
})();
