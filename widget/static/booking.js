/* The booking page's progressive enhancement: everything also works without it.
 *
 * - Times follow the browser's time zone when the visitor has not chosen one.
 * - Inside the embed frame (body[data-host-origin], set only for an allowed host),
 *   the page tells its host its height and a booking, and asks to close on Escape.
 *   Messages go to that one origin, never "*".
 */
(function () {
  "use strict";

  var host = document.body.getAttribute("data-host-origin");

  function post(message) {
    if (host && window.parent && window.parent !== window) {
      window.parent.postMessage(message, host);
    }
  }

  function hasOption(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) return true;
    }
    return false;
  }

  var zoneSelect = document.querySelector("select[data-tz-auto]");
  if (zoneSelect) {
    var detected = null;
    try {
      detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      detected = null;
    }
    if (detected && detected !== zoneSelect.value && hasOption(zoneSelect, detected)) {
      var url = new URL(window.location.href);
      url.searchParams.set("tz", detected);
      window.location.replace(url.toString());
      return;
    }
  }

  if (!host) return;

  var lastHeight = 0;
  function reportHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: "widget:resize", height: height });
    }
  }
  reportHeight();
  window.addEventListener("load", reportHeight);
  if ("ResizeObserver" in window) {
    new ResizeObserver(reportHeight).observe(document.documentElement);
  }

  var booked = document.querySelector("[data-booking-id]");
  if (booked) {
    post({
      type: "widget:booked",
      booking: {
        id: Number(booked.getAttribute("data-booking-id")),
        appointment_type_id: Number(booked.getAttribute("data-appointment-type-id")),
        start: booked.getAttribute("data-start"),
        status: booked.getAttribute("data-status")
      }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") post({ type: "widget:close" });
  });
})();
