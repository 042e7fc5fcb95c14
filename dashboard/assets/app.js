// The dashboard page: renders snapshot.json, then every message of the
// events stream. No framework, nothing fetched from elsewhere.
"use strict";
(function () {
  var HISTORY = 120; // points kept per tile for the sparklines
  var history = new Map(); // tile id -> [[calls, failures, rejected], ...]
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);

  // Theme: ?theme= wins, then the last choice, then the browser's.
  var themes = ["auto", "dark", "light"];
  var theme = params.get("theme") || localStorage.getItem("resilience-dashboard-theme") || "auto";
  function applyTheme() {
    if (theme === "auto") { document.documentElement.removeAttribute("data-theme"); }
    else { document.documentElement.setAttribute("data-theme", theme); }
    var b = $("theme");
    b.textContent = "Theme: " + theme;
    b.setAttribute("aria-label", "Colour theme: " + theme + ". Activate to switch.");
  }
  $("theme").addEventListener("click", function () {
    theme = themes[(themes.indexOf(theme) + 1) % themes.length];
    try { localStorage.setItem("resilience-dashboard-theme", theme); } catch (e) { /* private mode */ }
    applyTheme();
  });
  applyTheme();

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function num(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
  function refusals(r) {
    var parts = [];
    Object.keys(r || {}).sort().forEach(function (k) { parts.push(k + " " + r[k]); });
    return parts.join(", ");
  }
  function remember(id, t, seed) {
    var h = history.get(id);
    if (!h) { h = []; history.set(id, h); }
    if (seed && t.history) { h.length = 0; Array.prototype.push.apply(h, t.history); }
    else { h.push([t.calls_per_sec, t.failures_per_sec, t.rejected_per_sec]); }
    if (h.length > HISTORY) { h.splice(0, h.length - HISTORY); }
    return h;
  }
  var SVG = "http://www.w3.org/2000/svg";
  function sparkline(h) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + HISTORY + " 28");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    var top = 1;
    h.forEach(function (p) { top = Math.max(top, p[0], p[1]); });
    [[0, "calls"], [1, "errors"]].forEach(function (s) {
      var pts = h.map(function (p, i) {
        return (HISTORY - h.length + i) + "," + (27 - 26 * p[s[0]] / top).toFixed(1);
      });
      var line = document.createElementNS(SVG, "polyline");
      line.setAttribute("class", s[1]);
      line.setAttribute("points", pts.join(" "));
      svg.appendChild(line);
    });
    return svg;
  }
  function latency(t) {
    return "p50 " + num(t.p50_ms) + " · p90 " + num(t.p90_ms) + " · p99 " + num(t.p99_ms) + " ms";
  }

  function breakerTile(t, seed) {
    var id = "b\u0000" + t.name + "\u0000" + t.key;
    var h = remember(id, t, seed);
    var li = el("li", "tile " + t.state);
    li.dataset.policy = t.name;
    li.dataset.key = t.key;
    li.dataset.state = t.state;
    var label = (t.name || "breaker") + (t.key ? " " + t.key : "") + ": " + t.state + ", " +
      num(t.calls_per_sec) + " calls per second, " + num(t.failures_per_sec) + " errors per second";
    if (t.rejected_per_sec > 0) { label += ", " + num(t.rejected_per_sec) + " refused per second"; }
    li.setAttribute("aria-label", label);
    var top = el("div", "top");
    var dot = el("span", "dot");
    var size = Math.round(8 + 4 * Math.log10(1 + t.calls_per_sec + t.rejected_per_sec));
    dot.style.width = dot.style.height = size + "px";
    top.appendChild(dot);
    var names = el("div");
    names.appendChild(el("div", "name", t.name || "(no name)"));
    if (t.key) { names.appendChild(el("div", "key", t.key)); }
    top.appendChild(names);
    top.appendChild(el("span", "state", t.state));
    li.appendChild(top);
    li.appendChild(el("p", "figs", num(t.calls_per_sec) + " calls/s · " + num(t.failures_per_sec) + " err/s · " +
      num(t.rejected_per_sec) + " refused/s"));
    li.appendChild(el("p", "figs", latency(t)));
    var r = refusals(t.rejected);
    var extra = [];
    if (r) { extra.push("refused: " + r); }
    if (t.timeouts) { extra.push("timeouts " + t.timeouts); }
    if (t.fallbacks) { extra.push("fallbacks " + t.fallbacks); }
    if (extra.length) { li.appendChild(el("p", "figs", extra.join(" · "))); }
    li.appendChild(sparkline(h));
    return li;
  }

  function bulkheadTile(t, seed) {
    var h = remember("h\u0000" + t.name, t, seed);
    var li = el("li", "tile");
    li.dataset.policy = t.name;
    var pct = Math.round(100 * t.saturation);
    li.setAttribute("aria-label", (t.name || "bulkhead") + ": " + t.in_flight + " of " + t.max_concurrent +
      " slots in use, " + pct + " percent, " + t.waiting + " waiting, " + t.rejected_total + " refused in all");
    var top = el("div", "top");
    top.appendChild(el("div", "name", t.name || "(no name)"));
    top.appendChild(el("span", "state", pct + "%"));
    li.appendChild(top);
    var m = el("meter");
    m.min = 0; m.max = Math.max(1, t.max_concurrent); m.value = t.in_flight;
    m.low = 0.5 * m.max; m.high = 0.9 * m.max; m.optimum = 0;
    m.setAttribute("aria-label", "saturation of " + (t.name || "bulkhead"));
    li.appendChild(m);
    li.appendChild(el("p", "figs", t.in_flight + "/" + t.max_concurrent + " in use · " + t.waiting +
      " waiting · " + t.rejected_total + " refused"));
    li.appendChild(sparkline(h));
    return li;
  }

  function more(id, n, what) {
    var p = $(id);
    p.hidden = !n;
    p.textContent = n ? "and " + n + " more " + what : "";
  }

  function render(m, seed) {
    document.title = m.title + " · " + m.status;
    $("title").textContent = m.title;
    var st = $("status");
    st.className = "status " + m.status;
    st.textContent = m.status === "ok" ? "all breakers closed" :
      m.status === "down" ? "every breaker open" : "some breakers not closed";

    var seen = new Set();
    var list = document.createDocumentFragment();
    m.breakers.forEach(function (t) { seen.add("b\u0000" + t.name + "\u0000" + t.key); list.appendChild(breakerTile(t, seed)); });
    $("breakers").replaceChildren(list);
    more("breakers-more", m.breakers_more, "breakers");
    $("breakers-none").hidden = m.breakers.length > 0;

    list = document.createDocumentFragment();
    m.bulkheads.forEach(function (t) { seen.add("h\u0000" + t.name); list.appendChild(bulkheadTile(t, seed)); });
    $("bulkheads").replaceChildren(list);
    more("bulkheads-more", m.bulkheads_more, "bulkheads");
    $("bulkheads-none").hidden = m.bulkheads.length > 0;

    var rows = document.createDocumentFragment();
    m.policies.forEach(function (t) {
      var tr = el("tr");
      tr.dataset.policy = t.policy;
      tr.dataset.key = t.key;
      [t.policy, t.key, num(t.calls_per_sec), num(t.failures_per_sec), num(t.rejected_per_sec),
        refusals(t.rejected) || "0", String(t.timeouts), String(t.fallbacks),
        num(t.p50_ms), num(t.p90_ms), num(t.p99_ms)].forEach(function (v, i) {
        var c = el(i === 0 ? "th" : "td", "", v);
        if (i === 0) { c.scope = "row"; }
        tr.appendChild(c);
      });
      rows.appendChild(tr);
    });
    $("policies").tBodies[0].replaceChildren(rows);
    more("policies-more", m.policies_more, "policies");
    $("policies").hidden = m.policies.length === 0;
    $("policies-none").hidden = m.policies.length > 0;

    var tl = document.createDocumentFragment();
    m.timeline.slice().reverse().forEach(function (c) {
      var li = el("li");
      li.dataset.to = c.to;
      var t = el("time", "", new Date(c.time).toLocaleTimeString());
      t.dateTime = c.time;
      li.appendChild(t);
      li.appendChild(document.createTextNode(c.policy + (c.key ? " " + c.key : "") + ": " + c.from + " → "));
      li.appendChild(el("span", "chip " + c.to, c.to));
      tl.appendChild(li);
    });
    $("timeline").replaceChildren(tl);
    $("timeline-none").hidden = m.timeline.length > 0;

    // Forget the history of tiles no longer listed: memory stays bounded.
    history.forEach(function (_, id) { if (!seen.has(id)) { history.delete(id); } });
    $("updated").textContent = "Updated " + new Date(m.time).toLocaleTimeString() + " · every " +
      m.interval_ms + " ms · latency over the last " + Math.round(m.window_ms / 1000) + " s";
  }

  function connect() {
    var es = new EventSource("events");
    es.onopen = function () { $("conn").textContent = "live"; };
    es.onmessage = function (e) { render(JSON.parse(e.data), false); };
    es.onerror = function () {
      $("conn").textContent = "reconnecting";
      if (es.readyState === EventSource.CLOSED) { setTimeout(connect, 2000); }
    };
  }

  fetch("snapshot.json?history=true", { cache: "no-store" })
    .then(function (r) { if (!r.ok) { throw new Error("snapshot: " + r.status); } return r.json(); })
    .then(function (m) { render(m, true); })
    .catch(function () { $("conn").textContent = "snapshot unavailable"; })
    .then(connect);
})();
