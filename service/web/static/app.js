// Shared by every page: calls to the REST API with the session's CSRF token.
"use strict";
window.gk = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.content : "";
  // options.poll: a background refresh, not the person's action (it does not keep the session alive).
  async function api(method, path, body, options) {
    const init = { method: method, headers: { "X-CSRF-Token": token }, credentials: "same-origin" };
    if (options && options.poll) init.headers["X-Gongkai-Poll"] = "1";
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch("/api/v1" + path, init);
    } catch (e) {
      return { ok: false, status: 0, data: { error: { message: "网络连接失败，请检查网络后重试。" } } };
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 401 && data.error && data.error.code === "session_expired") {
      // signed out for inactivity: to the login page, and back here afterwards
      window.location.assign("/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search));
    }
    return { ok: response.ok, status: response.status, data: data };
  }
  function errorText(result) {
    return (result.data && result.data.error && result.data.error.message) || ("请求失败（" + result.status + "）");
  }
  const STATES = { received: "已接收", processing: "处理中", pending_review: "待审核", approved: "已审核",
    published: "已发布", withdrawn: "已撤回", rejected: "已退回", failed: "处理失败" };
  return { api: api, errorText: errorText, STATES: STATES };
})();
