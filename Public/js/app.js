// The little script PLS needs: confirm before irreversible form posts (on the form, or on the button pressed).
// Pages work without it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var message = (button && button.getAttribute && button.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
  if (message && !window.confirm(message)) { event.preventDefault(); }
});

// A select marked data-autosubmit applies at once (the button stays for keyboard and no-script users).
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) { el.form.submit(); }
});

// A button marked data-print prints the page (the printable notices of legal aid).
document.addEventListener("click", function (event) {
  var el = event.target;
  if (el.hasAttribute && el.hasAttribute("data-print")) { window.print(); }
});

// A page answered at an anchor (the legal aid pre-check's verdict) takes the focus there, so that a screen reader
// and a phone's screen both start at the answer.
document.addEventListener("DOMContentLoaded", function () {
  var target = location.hash && document.getElementById(location.hash.slice(1));
  if (target && target.hasAttribute("tabindex")) { target.focus(); return; }
  // A form answered with errors: the summary, which links to each field, takes the focus.
  var summary = document.querySelector("[data-focus]");
  if (summary) { summary.focus(); }
});

// The call console and the window: as soon as the number and the category are known, the possible duplicates
// (and the open matters a repeat call can urge) appear without pressing anything. Without script, Enter looks them up.
(function () {
  var timer = null;
  function refresh(form) {
    var panel = form.querySelector("[data-duplicates]");
    if (!panel) { return; }
    var mobile = (form.querySelector("#mobile") || {}).value || "";
    var picked = form.querySelector("input[name=category]:checked");
    var other = form.querySelector("#categoryOther");
    var category = picked ? picked.value : (other && other.value) || "";
    if (!/^1\d{10}$/.test(mobile.trim()) || !category) { return; }
    var url = panel.getAttribute("data-duplicates") + "?mobile=" + encodeURIComponent(mobile.trim()) + "&category=" + encodeURIComponent(category);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { panel.innerHTML = html; } })
      .catch(function () {});
  }
  function watch(event) {
    var form = event.target && event.target.form;
    if (!form || !form.classList.contains("intake")) { return; }
    if (["mobile", "category", "categoryOther"].indexOf(event.target.name) < 0) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () { refresh(form); }, 250);
  }
  document.addEventListener("input", watch);
  document.addEventListener("change", watch);
})();

// A panel marked data-refresh (the command screen) fetches itself again every data-every seconds and swaps in what
// comes back; a failed fetch leaves the last figures up.
(function () {
  var panel = document.querySelector("[data-refresh]");
  if (!panel) { return; }
  var every = Math.max(5, parseInt(panel.getAttribute("data-every") || "10", 10)) * 1000;
  setInterval(function () {
    fetch(panel.getAttribute("data-refresh"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        // Signed out meanwhile (the session ended): show the sign-in page itself, not inside the panel.
        if (r.redirected || r.status === 401) { location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html !== null) { panel.innerHTML = html; } })
      .catch(function () {});
  }, every);
})();
