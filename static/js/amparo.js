/*
 * Amparo — small, dependency-free page behaviour. Loaded with `defer` after htmx.
 * The Content-Security-Policy forbids inline scripts and handlers, so every behaviour is wired
 * here from data attributes:
 *
 *   <meta name="csrf-token" content="…">   sent as X-CSRFToken on every htmx request
 *   data-confirm="Message"                 on a <form>, or on a submit <button>/<input>, or on a link:
 *                                          asks confirm() first and cancels if declined
 *   data-copy-target="#id"                 on a button: copies that element's text (or a field's value)
 *   data-dismiss                           on a button inside a .message: hides that message
 *   .nav-toggle[aria-controls]             on narrow screens, shows/hides the site menu
 *   .table-wrap > table.table              each cell is labelled with its column's header (data-label),
 *                                          so that on a phone the CSS shows each row as a card; and
 *                                          while the table is still wider than the box (it scrolls
 *                                          sideways), the box is a named, focusable region
 *   <select data-search="Placeholder"       a long list gets a search box (a text field with a
 *           data-search-invalid="Message">  datalist: typing part of an option offers the matches);
 *                                          the select stays in the form, hidden, and is what is sent
 */
(function () {
  "use strict";

  var doc = document;
  doc.documentElement.classList.add("js");

  function csrfToken() {
    var meta = doc.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // (a) htmx: send the CSRF token with every request it makes.
  doc.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token && event.detail && event.detail.headers) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // (b) data-confirm: on forms (checked on submit) and on submitters or links (checked on click).
  // For an element that htmx itself sends (hx-post etc.), the question is asked in htmx:confirm,
  // so the request waits for the answer; hx-confirm, if present, is left to htmx.
  function confirmed(element) {
    var message = element && element.getAttribute("data-confirm");
    return !message || window.confirm(message);
  }

  var HTMX_REQUEST = "[hx-get],[hx-post],[hx-put],[hx-patch],[hx-delete]," +
    "[data-hx-get],[data-hx-post],[data-hx-put],[data-hx-patch],[data-hx-delete]";

  doc.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var trigger = target && target.closest(
      "button[data-confirm], input[type=submit][data-confirm], input[type=image][data-confirm], a[data-confirm]");
    if (!trigger || trigger.disabled) return;
    // Elements that htmx sends are asked in htmx:confirm below instead (so never twice).
    if (trigger.matches(HTMX_REQUEST)) return;
    if (!confirmed(trigger)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    // Answered yes: the form's own data-confirm (if any) need not ask again for this submission.
    // The flag is cleared once this click's default action (the submit event) has run.
    var form = trigger.form;
    if (form && form.hasAttribute("data-confirm")) {
      form.setAttribute("data-confirmed", "");
      window.setTimeout(function () { form.removeAttribute("data-confirmed"); }, 0);
    }
  }, true);

  doc.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (form.hasAttribute("data-confirmed") || form.matches(HTMX_REQUEST)) return;
    if (!confirmed(form)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  doc.addEventListener("htmx:confirm", function (event) {
    var element = event.detail && event.detail.elt;
    if (!element || !element.hasAttribute("data-confirm") || element.hasAttribute("hx-confirm")) return;
    event.preventDefault();
    if (confirmed(element)) event.detail.issueRequest(true);
  });

  // (c) data-copy-target: copy an element's text (recovery codes) to the clipboard.
  function legacyCopy(text) {
    var area = doc.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    doc.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
    doc.body.removeChild(area);
    return ok;
  }

  function copyText(text) {
    var viaApi = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text)
      : Promise.reject(new Error("no clipboard API"));
    return viaApi.catch(function () {
      if (!legacyCopy(text)) throw new Error("copy failed");
    });
  }

  var liveRegion = null;
  function say(text) {
    if (!liveRegion) {
      liveRegion = doc.createElement("div");
      liveRegion.className = "visually-hidden";
      liveRegion.setAttribute("aria-live", "polite");
      doc.body.appendChild(liveRegion);
    }
    liveRegion.textContent = "";
    window.setTimeout(function () { liveRegion.textContent = text; }, 50);
  }

  function announce(button, text) {
    say(text);
    var original = button.getAttribute("data-copy-label") || button.textContent;
    button.setAttribute("data-copy-label", original);
    button.textContent = text;
    button.classList.add("is-copied");
    window.clearTimeout(button._amparoCopyTimer);
    button._amparoCopyTimer = window.setTimeout(function () {
      button.textContent = original;
      button.classList.remove("is-copied");
    }, 2000);
  }

  doc.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target && target.closest("[data-copy-target]");
    if (!button) return;
    event.preventDefault();
    var source = doc.querySelector(button.getAttribute("data-copy-target"));
    if (!source) return;
    var text = "value" in source && typeof source.value === "string" ? source.value : source.innerText;
    text = text.replace(/\s+$/, "") + "\n";
    copyText(text).then(function () {
      announce(button, button.getAttribute("data-copied-text") || "Copied");
    }, function () {
      announce(button, button.getAttribute("data-copy-failed-text") || "Copy failed — select the text and copy it");
      if (window.getSelection && doc.createRange) {
        var range = doc.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
    });
  });

  // (d) data-dismiss: hide the closest .message (and move focus somewhere sensible).
  doc.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target && target.closest("[data-dismiss]");
    if (!button) return;
    var message = button.closest(".message");
    if (!message) return;
    message.hidden = true;
    var list = message.closest(".messages");
    if (list && !list.querySelector(".message:not([hidden])")) list.hidden = true;
    var main = doc.getElementById("main");
    if (main && doc.activeElement === button) main.focus();
  });

  // Mobile menu toggle: the button is hidden without JavaScript (the menu then simply shows).
  function setUpMenu() {
    var toggle = doc.querySelector(".nav-toggle[aria-controls]");
    var header = toggle && toggle.closest(".site-header");
    if (!toggle || !header) return;
    toggle.hidden = false;
    header.classList.add("is-collapsible");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("is-open", open);
    });
    doc.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("is-open")) {
        toggle.setAttribute("aria-expanded", "false");
        header.classList.remove("is-open");
        toggle.focus();
      }
    });
  }

  // (e) Tables become cards on small screens: each cell is given its column header's text as
  // data-label (the CSS shows it before the cell and hides the header row below 48rem). As
  // display:block takes a table's semantics away in some browsers, the table's parts say their
  // roles explicitly. An actions column (its header only screen-reader text) gets no label.
  function headerLabels(table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) return null;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      var shown = cell.cloneNode(true);
      shown.querySelectorAll(".visually-hidden").forEach(function (el) { el.remove(); });
      var label = shown.textContent.replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i++) labels.push(label);
    });
    return labels;
  }

  function makeCards(root) {
    (root || doc).querySelectorAll(".table-wrap > table.table:not(.is-cards)").forEach(function (table) {
      var labels = headerLabels(table);
      if (!labels) return;
      table.classList.add("is-cards");
      table.setAttribute("role", "table");
      Array.prototype.forEach.call(table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot"), function (group) {
        group.setAttribute("role", "rowgroup");
      });
      Array.prototype.forEach.call(table.rows, function (row) {
        row.setAttribute("role", "row");
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var inHead = row.parentNode === table.tHead;
          if (inHead) {
            cell.setAttribute("role", "columnheader");
          } else {
            cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
            var label = cell.colSpan > 1 ? "" : labels[column] || "";
            if (label) cell.setAttribute("data-label", label);
            else cell.classList.add("is-unlabelled");
          }
          column += cell.colSpan || 1;
        });
      });
    });
  }

  // (f) A .table-wrap whose table is wider than the screen scrolls sideways; keyboard users can
  // only scroll it if it can take focus (WCAG 2.1.1). While it overflows it is a focusable region
  // named by its table's caption or the heading just before it; when it fits, it is a plain box
  // again (no needless tab stop).
  var labelCount = 0;
  function labelFor(wrap) {
    var table = wrap.querySelector("table");
    var label = table && table.caption;
    if (!label) {
      var previous = wrap.previousElementSibling;
      label = previous && /^H[1-6]$/.test(previous.tagName) ? previous : null;
    }
    if (!label) return null;
    if (!label.id) label.id = "table-label-" + (++labelCount);
    return label.id;
  }

  function markScrollingTables(root) {
    (root || doc).querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls === wrap.hasAttribute("tabindex")) return;
      if (scrolls) {
        wrap.setAttribute("tabindex", "0");
        var id = labelFor(wrap);
        if (id) {
          wrap.setAttribute("role", "region");
          wrap.setAttribute("aria-labelledby", id);
        }
      } else {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-labelledby");
      }
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () { markScrollingTables(doc); }, 150);
  });

  // (g) select[data-search]: a text field with a datalist takes the select's place (Chromium and
  // Firefox offer every option containing what was typed, anywhere in its text). The select stays
  // in the form, hidden, and follows the field: an exact option text selects that option, an empty
  // field the select's empty choice; anything else is refused on submit with the given message.
  var searchCount = 0;
  function setUpSearches(root) {
    (root || doc).querySelectorAll("select[data-search]:not([data-search-ready])").forEach(function (select) {
      select.setAttribute("data-search-ready", "");
      var listId = "search-list-" + (++searchCount);
      var list = doc.createElement("datalist");
      list.id = listId;
      var byText = {};
      var emptyValue = null;
      Array.prototype.forEach.call(select.options, function (option) {
        if (option.value === "") {
          emptyValue = "";
          return;
        }
        var item = doc.createElement("option");
        item.value = option.text;
        list.appendChild(item);
        byText[option.text] = option.value;
      });
      var field = doc.createElement("input");
      field.type = "text";
      field.setAttribute("list", listId);
      field.setAttribute("autocomplete", "off");
      field.placeholder = select.getAttribute("data-search");
      field.className = select.className;
      // The field takes the select's id, so that the label (and any error's aria-describedby) is its.
      field.id = select.id;
      select.id = select.id + "-select";
      ["aria-describedby", "aria-invalid", "required"].forEach(function (name) {
        if (select.hasAttribute(name)) field.setAttribute(name, select.getAttribute(name));
      });
      var chosen = select.options[select.selectedIndex];
      field.value = chosen && chosen.value !== "" ? chosen.text : "";
      select.required = false;
      select.hidden = true;
      select.tabIndex = -1;
      select.parentNode.insertBefore(field, select);
      select.parentNode.insertBefore(list, select);

      function follow() {
        var text = field.value.trim();
        if (text === "" && emptyValue !== null) {
          select.value = "";
          field.setCustomValidity("");
        } else if (Object.prototype.hasOwnProperty.call(byText, text)) {
          select.value = byText[text];
          field.setCustomValidity("");
        } else {
          field.setCustomValidity(select.getAttribute("data-search-invalid") || "");
        }
      }
      field.addEventListener("input", follow);
      field.addEventListener("change", follow);
      follow();
    });
  }

  function revealEnhancements(root) {
    (root || doc).querySelectorAll("[data-dismiss][hidden], [data-copy-target][hidden]").forEach(function (el) {
      el.hidden = false;
    });
  }

  function init() {
    setUpMenu();
    revealEnhancements(doc);
    setUpSearches(doc);
    makeCards(doc);
    markScrollingTables(doc);
  }

  if (doc.readyState === "loading") {
    doc.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }

  // Content swapped in by htmx may carry buttons that need revealing too.
  doc.addEventListener("htmx:load", function (event) {
    revealEnhancements(event.target instanceof Element ? event.target : doc);
    setUpSearches(event.target instanceof Element ? event.target : doc);
    makeCards(doc);
    markScrollingTables(doc);
  });
})();
