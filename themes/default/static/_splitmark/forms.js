// Progressive enhancement of splitmark capture forms. Without JavaScript a form is a plain
// POST answered by pages the server renders (the form again with its errors, a thank-you
// page); with it, the form fills its attribution fields, submits with
// fetch, shows the server's per-field errors next to the fields and the success message inline.
(function () {
  "use strict";
  if (window.__smForms) return;
  window.__smForms = true;
  var KEY = "sm_utm";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function landingUtm() {
    var q = new URLSearchParams(location.search), found = {}, any = false;
    UTM.forEach(function (k) { var v = q.get(k); if (v) { found[k] = v; any = true; } });
    try {
      if (any) sessionStorage.setItem(KEY, JSON.stringify(found));
      else found = JSON.parse(sessionStorage.getItem(KEY) || "{}");
    } catch (e) { /* storage blocked: use the URL only */ }
    return found;
  }

  function visitor() {
    var m = document.cookie.match(/(?:^|; )sm_vid=([^;]+)/);
    return m ? m[1] : (window.splitmark && window.splitmark.visitor) || "";
  }

  function set(form, name, value) {
    var el = form.elements.namedItem(name);
    if (el && value && !el.value) el.value = value;
  }

  function fill(form) {
    var exp = form.getAttribute("data-sm-experiment");
    set(form, "_visitor", visitor());
    set(form, "_page", location.pathname);
    set(form, "_referrer", document.referrer);
    if (exp) set(form, "_variant", document.documentElement.getAttribute("data-sm-" + exp));
    var utm = landingUtm();
    UTM.forEach(function (k) { set(form, k, utm[k]); });
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".sm-error"), function (p) { p.textContent = ""; });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showErrors(form, fields) {
    var first = null;
    Object.keys(fields || {}).forEach(function (name) {
      var f = fields[name], msg = typeof f === "string" ? f : f.message;
      var slot = form.querySelector("#sm-" + form.getAttribute("data-sm-form") + "-" + name + "-err");
      if (slot) slot.textContent = msg;
      var el = form.elements.namedItem(name);
      var target = el && el.length !== undefined && !el.tagName ? el[0] : el;
      if (target) { target.setAttribute("aria-invalid", "true"); first = first || target; }
    });
    if (first) first.focus();
  }

  function onSubmit(ev) {
    var form = ev.target, button = form.querySelector("button[type=submit]"), status = form.querySelector(".sm-status");
    if (!window.fetch || !window.FormData) return;
    ev.preventDefault();
    if (button.disabled) return;
    fill(form);
    clearErrors(form);
    button.disabled = true;
    status.textContent = "Sending…";
    fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), headers: { Accept: "application/json" }, credentials: "include" })
      .then(function (res) { return res.json().catch(function () { return {}; }).then(function (body) { return [res, body]; }); })
      .then(function (r) {
        var res = r[0], body = r[1];
        if (res.ok) {
          var url = form.getAttribute("data-sm-success-url");
          if (url) { location.assign(url); return; }
          status.textContent = form.getAttribute("data-sm-success");
          form.reset();
          Array.prototype.forEach.call(form.querySelectorAll("input,select,textarea,button"), function (el) { el.disabled = true; });
          return;
        }
        status.textContent = body.message || "Something went wrong. Please try again.";
        showErrors(form, body.fields);
        button.disabled = false;
      })
      .catch(function () {
        status.textContent = "Could not reach the server. Check your connection and try again.";
        button.disabled = false;
      });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sm-form]"), function (form) {
      fill(form);
      form.addEventListener("submit", onSubmit);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
