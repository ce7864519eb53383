/* Widget embed: paste
 *   <div data-widget-link="TOKEN"></div>
 *   <script src="https://WIDGET-HOST/embed.js" async></script>
 * and the div becomes the booking page in a frame that grows with its content.
 *
 * Options, as data attributes on the div:
 *   data-widget-mode="popup"   a button that opens the booking page in a dialog
 *   data-widget-label="..."    the button's text (popup mode)
 *   data-widget-name, data-widget-email, data-widget-type (appointment type id),
 *   data-widget-timezone       prefill; the host page's URL parameters widget_name,
 *                              widget_email, widget_type, widget_timezone also work.
 *
 * When a visitor books, the div fires a "widget:booked" CustomEvent that bubbles to
 * document; event.detail has id, appointment_type_id, start and status.
 * Messages are accepted only from the widget's own origin (the origin of this
 * script) and only from a frame this script made.
 */
(function () {
  "use strict";

  if (window.WidgetEmbed) {
    window.WidgetEmbed.scan();
    return;
  }

  var script = document.currentScript;
  if (!script) {
    var scripts = document.querySelectorAll('script[src*="/embed.js"]');
    script = scripts[scripts.length - 1];
  }
  if (!script || !script.src) return;

  var scriptUrl = new URL(script.src, document.baseURI);
  var widgetOrigin = scriptUrl.origin;
  var widgetBase = scriptUrl.href.split(/[?#]/)[0].replace(/\/embed\.js$/, "");
  var mounted = [];
  var PREFILL = [
    ["name", "name", "name"],
    ["email", "email", "email"],
    ["type", "type", "type"],
    ["tz", "timezone", "timezone"]
  ];

  function hostParam(name) {
    try {
      return new URLSearchParams(window.location.search).get(name);
    } catch (error) {
      return null;
    }
  }

  function frameUrl(element) {
    var token = element.getAttribute("data-widget-link") || "";
    var url = new URL(widgetBase + "/embed/" + encodeURIComponent(token));
    url.searchParams.set("origin", window.location.origin);
    PREFILL.forEach(function (field) {
      var value = element.getAttribute("data-widget-" + field[1]) || hostParam("widget_" + field[2]);
      if (value) url.searchParams.set(field[0], value);
    });
    return url.toString();
  }

  function titleOf(element) {
    return element.getAttribute("data-widget-title") || "Book an appointment";
  }

  function makeFrame(element, height) {
    var frame = document.createElement("iframe");
    frame.src = frameUrl(element);
    frame.title = titleOf(element);
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = height;
    return frame;
  }

  function mountInline(element) {
    var entry = { element: element, frame: makeFrame(element, "480px"), dialog: null };
    element.appendChild(entry.frame);
    mounted.push(entry);
  }

  function mountPopup(element) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "widget-open";
    button.setAttribute("aria-haspopup", "dialog");
    button.textContent = element.getAttribute("data-widget-label") || "Book an appointment";
    var entry = { element: element, frame: null, dialog: null, opener: button, inerted: [] };
    button.addEventListener("click", function () {
      openDialog(entry);
    });
    element.appendChild(button);
    mounted.push(entry);
  }

  function sentinel(onFocus) {
    var guard = document.createElement("span");
    guard.tabIndex = 0;
    guard.addEventListener("focus", onFocus);
    return guard;
  }

  function openDialog(entry) {
    if (entry.dialog) return;
    var overlay = document.createElement("div");
    overlay.className = "widget-overlay";
    overlay.style.cssText =
      "position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.6);" +
      "display:flex;align-items:center;justify-content:center;padding:1rem;box-sizing:border-box;";
    var dialog = document.createElement("div");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", titleOf(entry.element));
    dialog.style.cssText =
      "position:relative;background:#fff;color:#1a1a1a;border-radius:8px;width:100%;" +
      "max-width:42rem;max-height:100%;display:flex;flex-direction:column;overflow:hidden;" +
      "box-shadow:0 10px 40px rgba(0,0,0,.4);";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "widget-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "\u00d7";
    close.style.cssText =
      "align-self:flex-end;font:600 1.5rem/1 system-ui,sans-serif;min-width:44px;min-height:44px;" +
      "margin:4px;border:0;border-radius:6px;background:#fff;color:#1a1a1a;cursor:pointer;";
    close.addEventListener("click", function () {
      closeDialog(entry);
    });
    var frame = makeFrame(entry.element, Math.round(window.innerHeight * 0.7) + "px");
    frame.style.flex = "0 1 auto";
    dialog.appendChild(sentinel(function () { frame.focus(); }));
    dialog.appendChild(close);
    dialog.appendChild(frame);
    dialog.appendChild(sentinel(function () { close.focus(); }));
    overlay.appendChild(dialog);
    overlay.addEventListener("click", function (event) {
      if (event.target === overlay) closeDialog(entry);
    });
    overlay.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeDialog(entry);
      }
    });
    entry.inerted = [];
    Array.prototype.forEach.call(document.body.children, function (child) {
      if (!child.hasAttribute("inert")) {
        child.setAttribute("inert", "");
        entry.inerted.push(child);
      }
    });
    entry.overflow = document.body.style.overflow;
    document.body.style.overflow = "hidden";
    document.body.appendChild(overlay);
    entry.dialog = overlay;
    entry.frame = frame;
    close.focus();
  }

  function closeDialog(entry) {
    if (!entry.dialog) return;
    entry.dialog.parentNode.removeChild(entry.dialog);
    entry.inerted.forEach(function (child) {
      child.removeAttribute("inert");
    });
    entry.inerted = [];
    document.body.style.overflow = entry.overflow || "";
    entry.dialog = null;
    entry.frame = null;
    entry.opener.focus();
  }

  function entryFor(source) {
    for (var i = 0; i < mounted.length; i++) {
      if (mounted[i].frame && mounted[i].frame.contentWindow === source) return mounted[i];
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== widgetOrigin) return;
    var entry = entryFor(event.source);
    var data = event.data;
    if (!entry || !data || typeof data !== "object") return;
    if (data.type === "widget:resize") {
      var height = Number(data.height);
      if (!isFinite(height) || height <= 0) return;
      height = Math.min(Math.ceil(height), 20000);
      if (entry.dialog) height = Math.min(height, Math.max(window.innerHeight - 96, 200));
      entry.frame.style.height = height + "px";
    } else if (data.type === "widget:booked" && data.booking && typeof data.booking === "object") {
      var booking = data.booking;
      entry.element.dispatchEvent(
        new CustomEvent("widget:booked", {
          bubbles: true,
          detail: {
            id: booking.id,
            appointment_type_id: booking.appointment_type_id,
            start: booking.start,
            status: booking.status
          }
        })
      );
    } else if (data.type === "widget:close" && entry.dialog) {
      closeDialog(entry);
    }
  });

  function scan(root) {
    var found = (root || document).querySelectorAll("[data-widget-link]");
    Array.prototype.forEach.call(found, function (element) {
      if (element.hasAttribute("data-widget-ready")) return;
      element.setAttribute("data-widget-ready", "");
      if (element.getAttribute("data-widget-mode") === "popup") {
        mountPopup(element);
      } else {
        mountInline(element);
      }
    });
  }

  window.WidgetEmbed = { scan: scan, origin: widgetOrigin };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      scan();
    });
  } else {
    scan();
  }
})();
