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
