// Shared by the pages: formatting, the CSRF header, POSTs. No inline script anywhere (CSP).
"use strict";
window.psr = (function () {
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  }
  function duration(s) {
    if (s === null || s === undefined) return "-";
    if (s < 1) return Math.round(s * 1000) + "ms";
    if (s < 60) return s.toFixed(1) + "s";
    var m = Math.floor(s / 60), r = Math.floor(s % 60);
    if (m < 60) return m + "m" + (r < 10 ? "0" : "") + r + "s";
    var h = Math.floor(m / 60); m = m % 60;
    return h + "h" + (m < 10 ? "0" : "") + m + "m";
  }
  function bytes(n) {
    if (!n) return "-";
    var units = ["B", "KiB", "MiB", "GiB"], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + units[i];
  }
  // The API's times are RFC 3339 text (as `status --output json`'s); the pages compute in
  // seconds. A number is taken as seconds already.
  function seconds(t) {
    if (t === null || t === undefined || t === "") return null;
    return typeof t === "number" ? t : Date.parse(t) / 1000;
  }
  function when(ts) {
    if (!ts) return "-";
    var d = new Date(seconds(ts) * 1000);
    function p(x) { return (x < 10 ? "0" : "") + x; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " +
      p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function post(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": meta("psr-csrf") }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  return { meta: meta, duration: duration, bytes: bytes, seconds: seconds, when: when, post: post, el: el };
})();
