// Upload page: several files by drag-and-drop or picker, each with a live status.
"use strict";
(function () {
  const root = document.getElementById("uploader");
  const maxBytes = Number(root.dataset.maxBytes);
  const accept = root.dataset.accept.split(",");
  const table = document.getElementById("uploads");
  const rows = table.querySelector("tbody");
  const zone = document.getElementById("dropzone");
  const picker = document.getElementById("picker");
  const department = document.getElementById("department");
  const FINAL = ["pending_review", "approved", "published", "rejected", "failed", "withdrawn"];

  function size(n) {
    if (n < 1024) return n + " 字节";     // a 0-byte file is "0 字节", not "1 KB"
    return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.round(n / 1024) + " KB";
  }
  function row(file) {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    name.textContent = file.name;
    const bytes = document.createElement("td");
    bytes.textContent = size(file.size);
    const state = document.createElement("td");
    state.className = "upload-status";
    tr.append(name, bytes, state);
    rows.append(tr);
    table.hidden = false;
    return state;
  }
  function show(cell, text, kind) {
    cell.textContent = text;
    cell.dataset.state = kind;
  }
  function refusal(file) {
    const dot = file.name.lastIndexOf(".");
    const ext = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
    if (accept.indexOf(ext) < 0) return "不支持的文件类型，请上传 Word（.docx/.doc）、WPS（.wps）、RTF、PDF、OFD、.txt 文件或扫描图片（.jpg/.png/.tif）。";
    if (file.size === 0) return "文件是空的（0 字节）。";
    if (file.size > maxBytes) return "文件超过大小上限（" + size(maxBytes) + "），请压缩或拆分后再上传。";
    return null;
  }
  async function poll(cell, id) {
    for (let i = 0; i < 600; i++) {
      const got = await gk.api("GET", "/documents/" + id, undefined, { poll: true });
      if (got.ok) {
        const d = got.data;
        if (d.status === "failed") {
          show(cell, "处理失败：" + ((d.error && d.error.message) || "原因不明"), "failed");
          return;
        }
        show(cell, gk.STATES[d.status] || d.status, FINAL.indexOf(d.status) >= 0 ? "done" : "processing");
        if (FINAL.indexOf(d.status) >= 0) {
          const link = document.createElement("a");
          link.href = "/documents/" + id;
          link.textContent = " 查看";
          cell.append(link);
          return;
        }
      }
      await new Promise(function (r) { setTimeout(r, 1000); });
    }
  }
  async function send(file) {
    const cell = row(file);
    const refused = refusal(file);
    if (refused) { show(cell, "未上传：" + refused, "failed"); return; }
    show(cell, "上传中…", "uploading");
    const form = new FormData();
    form.append("file", file, file.name);
    if (department) form.append("department", department.value);
    const got = await gk.api("POST", "/documents", form);
    if (!got.ok) { show(cell, "上传失败：" + gk.errorText(got), "failed"); return; }
    const saved = got.data.queued === false ? "已保存，稍后自动处理…" : "处理中…";
    show(cell, got.data.created ? saved : "已上传过，正在查询状态…", "processing");
    await poll(cell, got.data.id);
  }
  function sendAll(files) { Array.from(files).forEach(send); }

  picker.addEventListener("change", function () { sendAll(picker.files); picker.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { sendAll(e.dataTransfer.files); });
  zone.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") picker.click(); });
})();
