// The timeline page: builds lanes and bars from the embedded events, then positions them for the
// visible time range on every zoom and pan.
"use strict";
(function () {
  const events = JSON.parse(document.getElementById("events").textContent);
  const meta = JSON.parse(document.getElementById("meta").textContent);
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  const secs = (ns) => (ns / 1e9).toFixed(6) + " s";
  function human(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(3) + " s";
    if (ns >= 1e6) return (ns / 1e6).toFixed(3) + " ms";
    if (ns >= 1e3) return (ns / 1e3).toFixed(1) + " µs";
    return ns + " ns";
  }

  // Header, legend and warnings.
  const s = meta.summary || { syscalls: [], events: events.length, lost: 0, duration_ns: 0 };
  $("title").textContent = meta.title;
  const about = [`kernel ${meta.kernel}`, meta.arch, `iotrace ${meta.version}`, `${s.events} events`, human(s.duration_ns)];
  if (s.exit_code != null) about.push(`exit status ${s.exit_code}`);
  if (meta.wall_start_ns) about.push("recorded " + new Date(meta.wall_start_ns / 1e6).toISOString().replace("T", " ").slice(0, 19) + " UTC");
  $("about").textContent = about.join(" · ");
  const warn = [];
  if (s.truncated) warn.push("The recording was cut short: this is what it holds.");
  if (s.lost) warn.push(`${s.lost} events were lost (the ring buffer was full).`);
  if (meta.missing && meta.missing.length) warn.push("Missing probes: " + meta.missing.join("; "));
  $("warnings").textContent = warn.join(" ");
  for (const m of meta.mechanisms) {
    const sw = el("span", "swatch");
    sw.append(el("i", "m-" + m), m);
    $("legend").append(sw);
  }
  for (const [cls, name] of [["kev", "kernel event"], ["pev", "fork/exec/exit"]]) {
    const sw = el("span", "swatch");
    const i = el("i");
    i.style.background = cls === "kev" ? "var(--kernel)" : "var(--process)";
    sw.append(i, name);
    $("legend").append(sw);
  }

  // One lane per thread, in order of first appearance.
  const lanes = new Map();
  function lane(tid, pid, comm) {
    let l = lanes.get(tid);
    if (l) return l;
    const row = el("div", "lane");
    row.dataset.tid = tid;
    const label = el("div", "label", comm || "tid");
    label.append(" ", el("small", null, String(tid)));
    label.title = `${comm || "thread"}: tid ${tid}` + (pid ? `, pid ${pid}` : "");
    const track = el("div", "track");
    row.append(label, track);
    $("lanes").append(row);
    l = { track };
    lanes.set(tid, l);
    return l;
  }
  for (const t of meta.threads) lane(t.tid, t.pid, t.comm);

  // Items: every drawn event with its node.
  const items = [];
  const bySeq = new Map(); // seq -> item
  const caused = new Map(); // syscall seq -> kernel items
  let t0 = Infinity, t1 = -Infinity;
  for (const ev of events) {
    if (ev.k === "l") {
      if (ev.t < 0) continue;
      const node = el("div", "lostmark");
      node.title = ev.n;
      $("ticks").append(node);
      items.push({ ev, node, span: false });
      continue;
    }
    const { track } = lane(ev.i, ev.p, "");
    let node;
    if (ev.k === "s") {
      node = el("div", `bar sc m-${ev.m}` + (ev.e ? " failed" : "") + (ev.u ? " open" : ""));
      node.title = ev.c + (ev.u ? "" : ` <${human(ev.d || 0)}>`) + (ev.o ? "\n↳ " + ev.o.join("\n↳ ") : "");
    } else if (ev.k === "k") {
      node = el("div", ev.d ? "kspan" : "kev");
      node.title = ev.n + " " + (ev.c || "") + (ev.o ? "\n↳ " + ev.o.join("\n↳ ") : "");
    } else {
      node = el("div", "pev");
      node.title = ev.n;
    }
    node.dataset.idx = items.length;
    const it = { ev, node, span: ev.k === "s" || (ev.k === "k" && ev.d > 0) };
    items.push(it);
    track.append(node);
    if (ev.q) bySeq.set(ev.q, it);
    if (ev.k === "k" && ev.x) {
      if (!caused.has(ev.x)) caused.set(ev.x, []);
      caused.get(ev.x).push(it);
    }
    t0 = Math.min(t0, ev.t);
    t1 = Math.max(t1, ev.t + (ev.d || 0));
  }
  if (!isFinite(t0)) { t0 = 0; t1 = 1e6; }
  const pad = Math.max((t1 - t0) * 0.02, 1000);
  const full = { from: t0 - pad, to: t1 + pad };
  const view = { from: full.from, to: full.to };
  // #view=FROM,TO (seconds since the start of tracing) and #sel=SEQ open the page on a range and
  // an event, so a view can be linked to.
  const hash = new URLSearchParams(location.hash.slice(1));
  const range = (hash.get("view") || "").split(",").map(Number);
  if (range.length === 2 && range[1] > range[0]) [view.from, view.to] = [range[0] * 1e9, range[1] * 1e9];

  // Positioning: pixels from the visible range, so any zoom works at any length of trace.
  let frame = 0;
  function width() { return $("ticks").clientWidth || 1; }
  function render() {
    frame = 0;
    const W = width(), k = W / (view.to - view.from);
    for (const it of items) {
      const x = (it.ev.t - view.from) * k;
      const w = it.span ? Math.max((it.ev.d || 0) * k, 1) : 0;
      const st = it.node.style;
      if (x + w < -4 || x > W + 4) {
        st.display = "none";
        continue;
      }
      st.display = "";
      st.left = x.toFixed(1) + "px";
      if (it.span) st.width = w.toFixed(1) + "px";
    }
    ticks(W);
    $("range").textContent = `${secs(view.from)} – ${secs(view.to)} (${human(view.to - view.from)})`;
  }
  function schedule() { if (!frame) frame = requestAnimationFrame(render); }

  function ticks(W) {
    for (const t of [...$("ticks").querySelectorAll(".tick")]) t.remove();
    const span = view.to - view.from;
    let step = 1;
    while (span / step > W / 90) step *= step.toString()[0] === "2" ? 2.5 : 2;
    const digits = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / 1e9))));
    for (let t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      const tick = el("div", "tick", (t / 1e9).toFixed(digits) + "s");
      tick.style.left = ((t - view.from) * W / span).toFixed(1) + "px";
      $("ticks").append(tick);
    }
  }

  // Zoom around a point (wheel, buttons), pan by dragging.
  function zoom(factor, at) {
    const span = view.to - view.from;
    const next = Math.min(Math.max(span * factor, 1000), (full.to - full.from) * 4);
    const center = view.from + at * span;
    view.from = center - at * next;
    view.to = view.from + next;
    schedule();
  }
  const timeline = $("timeline");
  timeline.addEventListener("wheel", (e) => {
    const r = $("ticks").getBoundingClientRect();
    e.preventDefault();
    zoom(Math.exp(e.deltaY * 0.002), Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1));
  }, { passive: false });
  let drag = null;
  timeline.addEventListener("mousedown", (e) => {
    drag = { x: e.clientX, from: view.from, moved: false };
  });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    if (Math.abs(dx) > 3) { drag.moved = true; timeline.classList.add("dragging"); }
    if (!drag.moved) return;
    const span = view.to - view.from;
    view.from = drag.from - dx * span / width();
    view.to = view.from + span;
    schedule();
  });
  window.addEventListener("mouseup", (e) => {
    const d = drag;
    drag = null;
    timeline.classList.remove("dragging");
    if (d && !d.moved && e.target.dataset && e.target.dataset.idx) select(items[+e.target.dataset.idx]);
  });
  $("zoom-in").onclick = () => zoom(0.5, 0.5);
  $("zoom-out").onclick = () => zoom(2, 0.5);
  $("zoom-reset").onclick = () => { view.from = full.from; view.to = full.to; schedule(); };
  window.addEventListener("resize", schedule);

  // Details of the selected event, with the kernel work a call caused or the call behind a
  // kernel event.
  function select(it) {
    for (const n of document.querySelectorAll(".selected, .related")) n.classList.remove("selected", "related");
    it.node.classList.add("selected");
    const ev = it.ev, d = $("details");
    d.replaceChildren();
    const where = lanes.has(ev.i) ? ` on thread ${ev.i}` : "";
    if (ev.k === "s") {
      d.append(el("pre", null, ev.c));
      d.append(el("p", null, `at ${secs(ev.t)}${where}` + (ev.u ? ", never returned" : `, took ${human(ev.d || 0)}`) + ` · ${ev.m}`));
    } else {
      d.append(el("pre", null, ev.n + (ev.c ? "\n" + ev.c : "")));
      d.append(el("p", null, `at ${secs(ev.t)}${where}` + (ev.d ? `, lasted ${human(ev.d)}` : "")));
    }
    for (const n of ev.o || []) d.append(el("p", "note", n));
    if (ev.k === "s") {
      const ks = caused.get(ev.q) || [];
      d.append(el("h3", null, `Kernel evidence (${ks.length})`));
      const ul = el("ul");
      for (const k of ks) {
        k.node.classList.add("related");
        const li = el("li", null, `${k.ev.n} at ${secs(k.ev.t)} ${k.ev.c || ""}`);
        for (const n of k.ev.o || []) li.append(el("div", "note", n));
        li.onclick = () => select(k);
        ul.append(li);
      }
      d.append(ul);
    } else if (ev.k === "k" && ev.x) {
      const cause = bySeq.get(ev.x);
      d.append(el("h3", null, "Caused by"));
      if (cause) {
        cause.node.classList.add("related");
        const p = el("pre", null, cause.ev.c);
        p.onclick = () => select(cause);
        d.append(p);
      } else {
        d.append(el("p", null, `syscall #${ev.x} (not in this recording)`));
      }
    }
  }

  // Summary tables: the recording's per-syscall table, and kernel events by name.
  function table(t, head, rows) {
    const tr = el("tr");
    for (const h of head) tr.append(el("th", null, h));
    t.append(tr);
    for (const r of rows) {
      const row = el("tr", r.cls);
      for (const c of r.cells) row.append(el("td", null, c));
      t.append(row);
    }
  }
  const stats = [...(s.syscalls || [])].sort((a, b) => b.total_ns - a.total_ns || b.calls - a.calls || (a.name < b.name ? -1 : 1));
  const total = stats.reduce((a, r) => ({ calls: a.calls + r.calls, errors: a.errors + r.errors, total_ns: a.total_ns + r.total_ns }), { calls: 0, errors: 0, total_ns: 0 });
  const row = (r, name, cls) => ({ cls, cells: [
    (total.total_ns ? 100 * r.total_ns / total.total_ns : 0).toFixed(2), (r.total_ns / 1e9).toFixed(6),
    r.calls ? Math.floor(r.total_ns / 1000 / r.calls) : 0, r.calls, r.errors || "", name] });
  table($("summary"), ["% time", "seconds", "usecs/call", "calls", "errors", "syscall"],
    stats.map((r) => row(r, r.name)).concat([row(total, "total", "total")]));
  const kinds = new Map();
  for (const ev of events) if (ev.k === "k") kinds.set(ev.n, (kinds.get(ev.n) || 0) + 1);
  table($("kernel"), ["events", "kernel event"], [...kinds].sort((a, b) => b[1] - a[1]).map(([n, c]) => ({ cells: [c, n] })));

  render();
  const chosen = bySeq.get(Number(hash.get("sel")));
  if (chosen) select(chosen);
})();
