// Review page, keyboard first: 1–9 choose a category, Enter confirms and opens the next document in the
// queue (doccano's accept-and-next; the 确认 button stays on the document), R rejects and moves on,
// P publishes, J/K next/previous.
"use strict";
(function () {
  const root = document.getElementById("review");
  const id = root.dataset.id;
  const message = document.getElementById("message");
  const choices = Array.from(document.querySelectorAll("#choices .choice"));
  const dialog = document.getElementById("reject-dialog");
  const reason = document.getElementById("reject-reason");
  let chosen = (choices.find(function (b) { return b.classList.contains("chosen"); }) || {}).dataset;
  chosen = chosen ? chosen.category : "";

  function say(text, ok) {
    message.textContent = text;
    message.className = ok ? "alert ok" : "alert";
    message.hidden = false;
  }
  function choose(i) {
    if (!choices[i]) return;
    choices.forEach(function (b) { b.classList.remove("chosen"); });
    choices[i].classList.add("chosen");
    chosen = choices[i].dataset.category;
  }
  // One request at a time: a double click or a held Enter sends one action, not two.
  let busy = false;
  const buttons = Array.from(root.querySelectorAll("button")).filter(function (b) { return !b.disabled; });
  function setBusy(on) {
    busy = on;
    buttons.forEach(function (b) { b.disabled = on; });
    root.setAttribute("aria-busy", on ? "true" : "false");
  }
  // After the decision on a document (confirm, correct, reject) the next one in the queue opens
  // (the queue itself after the last); other actions show the document again as it is now.
  async function act(path, body, done, moveOn) {
    if (busy) return;
    setBusy(true);
    const got = await gk.api("POST", "/documents/" + id + path, body);
    if (!got.ok) { setBusy(false); say(gk.errorText(got), false); return; }
    const next = moveOn ? (root.dataset.next || root.dataset.queue) : "";
    say(next ? done + (root.dataset.next ? "正在打开下一件……" : "队列已处理完，正在返回队列……") : done, true);
    setTimeout(function () {
      if (next) window.location.href = next; else window.location.reload();
    }, next ? 250 : 400);
  }
  function confirmChoice(moveOn) {
    if (!chosen) { say("请先按数字键选择一个类别。", false); return; }
    const action = chosen === root.dataset.suggested ? "confirm" : "correct";
    // 更正 only where the model pre-selected another category; with none pre-selected the reviewer chose.
    const done = action === "confirm" ? "已确认。"
      : root.dataset.suggested ? "已更正为「" + chosen + "」。" : "已选定「" + chosen + "」。";
    act("/review", { action: action, category: chosen }, done, moveOn);
  }
  function openReject() { reason.value = ""; dialog.showModal(); reason.focus(); }

  // Which actions a document offers depends on its state: only those buttons are on the page.
  function on(elementId, handler) {
    const element = document.getElementById(elementId);
    if (element) element.addEventListener("click", handler);
    return element;
  }
  const confirmButton = document.getElementById("confirm");
  choices.forEach(function (b, i) { b.addEventListener("click", function () { choose(i); }); });
  on("confirm", function () { confirmChoice(false); });          // the button: stay (保密审查, 签发 next)
  on("confirm-next", function () { confirmChoice(true); });
  on("reject", openReject);
  on("reject-cancel", function () { dialog.close(); });
  dialog.addEventListener("close", function () {
    if (dialog.returnValue === "ok" && reason.value.trim()) {
      act("/review", { action: "reject", reason: reason.value.trim() }, "已退回。", true);
    }
  });
  const publishButton = on("publish", function () { act("/publish", undefined, "已发布。"); });
  const withdrawDialog = document.getElementById("withdraw-dialog");
  if (withdrawDialog) {
    const withdrawReason = document.getElementById("withdraw-reason");
    on("withdraw", function () { withdrawReason.value = ""; withdrawDialog.showModal(); withdrawReason.focus(); });
    on("withdraw-cancel", function () { withdrawDialog.close(); });
    withdrawDialog.addEventListener("close", function () {
      if (withdrawDialog.returnValue === "ok" && withdrawReason.value.trim()) {
        act("/withdraw", { reason: withdrawReason.value.trim() }, "已撤回。");
      }
    });
  }
  // 保密审查: the pages read by eye (every listed page must be ticked to clear), a note, the result.
  function secrecyReview(result) {
    const boxes = Array.from(document.querySelectorAll("#read-pages .page-read"));
    const pages = boxes.filter(function (b) { return b.checked; }).map(function (b) { return Number(b.value); });
    const note = (document.getElementById("secrecy-note") || {}).value || "";
    if (result === "cleared" && pages.length < boxes.length) {
      say("请逐页阅读原件，勾选全部页面后再审查通过。", false);
      return;
    }
    if (result === "not_cleared" && !note.trim()) {
      say("请在审查说明中写明不予通过的理由。", false);
      return;
    }
    act("/secrecy-review", { result: result, pages_read: pages, note: note.trim() },
        result === "cleared" ? "保密审查已通过。" : "已记录：保密审查不予通过。");
  }
  on("secrecy-clear", function () { secrecyReview("cleared"); });
  on("secrecy-refuse", function () { secrecyReview("not_cleared"); });
  const ack = document.getElementById("ack-pii");
  if (ack) ack.addEventListener("click", function () { act("/acknowledge-pii", { note: "" }, "已确认个人信息已处理。"); });

  document.addEventListener("keydown", function (e) {
    if (dialog.open || (withdrawDialog && withdrawDialog.open) || e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (/^[1-9]$/.test(e.key)) { choose(Number(e.key) - 1); e.preventDefault(); }
    else if (e.key === "Enter" && confirmButton) { confirmChoice(true); e.preventDefault(); }
    else if ((e.key === "r" || e.key === "R") && confirmButton) { openReject(); e.preventDefault(); }
    else if ((e.key === "p" || e.key === "P") && publishButton && !publishButton.disabled) {
      publishButton.click(); e.preventDefault();
    }
    else if ((e.key === "j" || e.key === "J") && root.dataset.next) { window.location.href = root.dataset.next; }
    else if ((e.key === "k" || e.key === "K") && root.dataset.prev) { window.location.href = root.dataset.prev; }
  });
})();
