// The little script PLS needs: confirm before destructive form posts. Pages work without it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute && form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
