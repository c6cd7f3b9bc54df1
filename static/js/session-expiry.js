/*
 * Amparo — clear a signed-in page once its session is over (ASVS 14.3.1).
 *
 * A page left open keeps showing what it showed (a case, a person) after the server has ended
 * the session. Loaded (with `defer`) only on pages for signed-in staff, which carry on <body>:
 *
 *   data-session-idle-seconds="1800"   the idle limit (SESSION_COOKIE_AGE), renewed by every request
 *   data-session-left-seconds="…"      what is left of the absolute limit (SESSION_ABSOLUTE_MAX_AGE)
 *
 * and, in a <template id="session-ended">, the notice that takes the page's place: when either
 * limit has passed, or when this person signs out in another tab, the whole <body> is replaced
 * by it (with a link to sign in again).
 *
 * Every request resets the idle timer: this page's own htmx requests, and (through a
 * BroadcastChannel, which stores nothing) the pages loaded and requests made in other tabs.
 * No inline script or handler: the Content-Security-Policy forbids them.
 */
(function () {
  "use strict";

  var body = document.body;
  var notice = document.getElementById("session-ended");
  var idleSeconds = parseInt(body.getAttribute("data-session-idle-seconds"), 10);
  if (!notice || !(idleSeconds > 0)) return;
  var leftSeconds = parseInt(body.getAttribute("data-session-left-seconds"), 10);

  var start = Date.now();
  var idleUntil = start + idleSeconds * 1000;
  var hardUntil = leftSeconds >= 0 ? start + leftSeconds * 1000 : Infinity;
  var ended = false;
  var timer = null;
  var channel = typeof window.BroadcastChannel === "function" ? new window.BroadcastChannel("amparo-session") : null;

  function end() {
    if (ended) return;
    ended = true;
    if (timer !== null) window.clearInterval(timer);
    document.title = notice.getAttribute("data-title") || document.title;
    body.replaceChildren(notice.content.cloneNode(true));
    var main = document.getElementById("main");
    if (main) main.focus();
  }

  function check() {
    if (!ended && Date.now() >= Math.min(idleUntil, hardUntil)) end();
  }

  function active() {
    idleUntil = Date.now() + idleSeconds * 1000;
  }

  // A minute's sleep of the computer or a throttled background tab must not keep the page up:
  // the clock is compared often and whenever the tab is shown again, rather than trusted to
  // one long timeout.
  timer = window.setInterval(check, 1000);
  document.addEventListener("visibilitychange", check);

  document.addEventListener("htmx:afterRequest", function () {
    active();
    if (channel) channel.postMessage("active");
  });

  var signOutUrl = notice.getAttribute("data-sign-out-url");
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (channel && !event.defaultPrevented && form instanceof HTMLFormElement && signOutUrl &&
        new URL(form.action, window.location.href).pathname === signOutUrl) {
      channel.postMessage("signed-out");
    }
  });

  if (channel) {
    channel.addEventListener("message", function (event) {
      if (event.data === "active") active();
      else if (event.data === "signed-out") end();
    });
    channel.postMessage("active"); // this page's own request renewed the session for every tab
  }
})();
