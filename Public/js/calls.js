// The 12348 console and wallboard. Ours, no library: the government intranet is offline.
(function () {
  "use strict";
  // Screen pop: the calls ringing at or answered by this operator arrive as server-sent events. An untouched console
  // opens the call at once (the caller's number and history filled in); one with typing in it shows a banner instead,
  // so nothing typed is lost.
  var pop = document.querySelector("[data-call-pop]");
  if (pop && window.EventSource) {
    var form = document.getElementById("intake-form");
    var touched = false;
    if (form) { form.addEventListener("input", function () { touched = true; }); }
    var current = pop.getAttribute("data-current-call");
    var source = new EventSource(pop.getAttribute("data-call-pop"));
    source.addEventListener("call", function (e) {
      var call;
      try { call = JSON.parse(e.data); } catch (err) { return; }
      if (!call || call.id === current) { return; }
      if (!touched) { window.location.href = call.href; return; }
      pop.hidden = false;
      pop.textContent = "";
      var text = document.createElement("span");
      text.textContent = "来电 " + call.callerMasked + "（" + call.stateName + "） ";
      var link = document.createElement("a");
      link.href = call.href;
      link.className = "button primary";
      link.textContent = "打开来电";
      pop.appendChild(text);
      pop.appendChild(link);
    });
  }
  // The wallboard's figures, every five seconds.
  var board = document.querySelector("[data-wallboard]");
  if (board && window.fetch) {
    var refresh = function () {
      fetch(board.getAttribute("data-wallboard"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (w) {
          if (!w) { return; }
          board.querySelectorAll("[data-field]").forEach(function (el) {
            var v = w[el.getAttribute("data-field")];
            el.textContent = v === null || v === undefined ? "—" : v + (el.getAttribute("data-suffix") || "");
          });
          var rows = document.querySelector("[data-wallboard-operators]");
          if (rows && w.operators) {
            rows.textContent = "";
            w.operators.forEach(function (o) {
              var tr = document.createElement("tr");
              [["坐席", o.name], ["状态", o.stateName], ["持续（分钟）", o.minutes]].forEach(function (c) {
                var td = document.createElement("td"); td.setAttribute("data-label", c[0]); td.textContent = c[1]; tr.appendChild(td);
              });
              rows.appendChild(tr);
            });
            var none = document.querySelector("[data-wallboard-none]");
            if (none) { none.hidden = w.operators.length > 0; }
          }
          var stamp = document.querySelector("[data-wallboard-updated]");
          if (stamp) { stamp.textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false }); }
        })
        .catch(function () {});
    };
    setInterval(refresh, 5000);
  }
})();
// The hall screen: who is called to which window, pushed by the server as it happens (server-sent events); a browser
// without them asks every two seconds.
(function () {
  "use strict";
  var hall = document.querySelector("[data-hall]");
  if (!hall) { return; }
  var list = hall.querySelector(".hall-called");
  var waiting = hall.querySelector("[data-hall-waiting]");
  var show = function (b) {
    if (!b) { return; }
    list.textContent = "";
    b.called.forEach(function (t, i) {
      var row = document.createElement("div");
      row.className = "hall-row" + (i === 0 ? " hall-latest" : "");
      var n = document.createElement("span"); n.className = "hall-number"; n.textContent = t.number;
      var w = document.createElement("span"); w.className = "hall-window"; w.textContent = "请到 " + (t.window || "") + " 号窗口";
      row.appendChild(n); row.appendChild(w); list.appendChild(row);
    });
    if (waiting) { waiting.textContent = b.waitingCount; }
    hall.setAttribute("data-hall-updated", String(Date.now()));
  };
  if (window.EventSource && hall.getAttribute("data-hall-stream")) {
    var source = new EventSource(hall.getAttribute("data-hall-stream"));
    source.addEventListener("board", function (e) {
      try { show(JSON.parse(e.data)); } catch (err) { /* a broken message: the next one repairs the screen */ }
    });
    return;
  }
  if (!window.fetch) { return; }
  setInterval(function () {
    fetch(hall.getAttribute("data-hall"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () {});
  }, 2000);
})();
