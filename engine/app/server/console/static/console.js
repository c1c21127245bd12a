// dialflow console: live updates for the calls list and one call's page.
// Text from calls only ever reaches the page through textContent (never as HTML).
"use strict";

(function () {
  const page = document.body.dataset.page;
  let clockOffset = 0; // server wall clock minus ours, seconds

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function serverNow() { return Date.now() / 1000 + clockOffset; }
  function secs(value) { return value.toFixed(1) + " s"; }

  // -- the calls list ---------------------------------------------------------------------
  function liveList() {
    const body = document.querySelector("#live-calls tbody");
    const count = document.getElementById("live-count");
    let calls = [];
    function draw() {
      body.replaceChildren();
      if (!calls.length) {
        const row = el("tr", "empty");
        const cell = el("td", "", "no call in progress");
        cell.colSpan = 7;
        row.append(cell);
        body.append(row);
      }
      const now = serverNow();
      for (const call of calls) {
        const row = el("tr");
        row.dataset.key = call.key;
        const link = el("a", "", call.id);
        link.href = "/console/calls/" + encodeURIComponent(call.key);
        const first = el("td");
        first.append(link);
        let timer = "-";
        if (call.timer) {
          const left = Math.max(0, call.timer.deadline - now);
          timer = call.timer.event + " in " + left.toFixed(1) + " s";
        }
        row.append(first, el("td", "", call.caller),
          el("td", "duration", Math.max(0, now - call.started).toFixed(0) + "s"),
          el("td", "state", call.state), el("td", "timer", timer), el("td", "", call.flow),
          el("td", "", call.worker || "-"));
        body.append(row);
      }
      count.textContent = String(calls.length);
    }
    const source = new EventSource("/console/live.sse");
    source.addEventListener("calls", (e) => {
      const data = JSON.parse(e.data);
      clockOffset = data.now - Date.now() / 1000;
      calls = data.calls;
      draw();
    });
    setInterval(draw, 500);
  }

  // -- one call ---------------------------------------------------------------------------
  function callPage() {
    const meta = JSON.parse(document.getElementById("call-data").textContent);
    const svg = document.querySelector("#diagram svg");
    const scrubber = document.getElementById("scrubber");
    const follow = document.getElementById("follow");
    const clock = document.getElementById("clock");
    const items = [];
    let call = null;
    let ended = !meta.live;
    let playing = null;

    function latest() {
      let t = 0;
      for (const item of items) t = Math.max(t, item.t, item.end || 0);
      if (!ended && call && call.live) t = Math.max(t, serverNow() - meta.started);
      return t;
    }

    const QUIET = new Set(["state", "caller", "heard", "cut"]); // shown by ev rows already
    function stateAt(upTo) {
      const s = { state: "", visited: [], edges: new Set(), lines: [], byId: {}, turns: [],
                  trace: [], timer: null, end: null };
      const ordered = items.filter((i) => i.t <= upTo).sort((a, b) => a.t - b.t || a.i - b.i);
      for (const it of ordered) {
        if (it.k === "state") {
          s.state = it.to;
          s.visited.push(it.to);
          const ids = it.frm ? meta.edges[[it.frm, it.e, it.to].join("\u0001")] : ["edge-start"];
          for (const id of ids || []) s.edges.add(id);
        } else if (it.k === "caller") {
          s.lines.push({ who: "caller", text: it.text, t: it.t });
        } else if (it.k === "agent") {
          const line = { who: "agent", text: it.text, t: it.t, status: "playing", id: it.id };
          s.byId[it.id] = line;
          s.lines.push(line);
        } else if (it.k === "heard" || it.k === "cut" || it.k === "failed") {
          const line = s.byId[it.id];
          if (line && line.status === "playing") line.status = it.k;
        } else if (it.k === "barge") {
          s.lines.push({ who: "barge", text: it.text, t: it.t });
        } else if (it.k === "turn") {
          s.turns.push(it);
        } else if (it.k === "timer") {
          s.timer = it.e ? { event: it.e, deadline: it.t + it.left } : null;
        } else if (it.k === "end") {
          s.end = it;
          s.timer = null;
        }
        if (!QUIET.has(it.k)) s.trace.push(it);
      }
      if (s.end || ended) {
        for (const line of s.lines) if (line.status === "playing") line.status = "unheard";
      }
      return s;
    }

    function drawDiagram(s) {
      if (!svg) return;
      for (const node of svg.querySelectorAll(".node, .edge")) {
        node.classList.remove("visited", "current", "taken");
      }
      for (const name of s.visited) {
        const node = document.getElementById("state-" + name);
        if (node) node.classList.add("visited");
      }
      const current = document.getElementById("state-" + s.state);
      if (current) current.classList.add("current");
      for (const id of s.edges) {
        const edge = document.getElementById(id);
        if (edge) edge.classList.add("taken");
      }
    }

    function drawLines(s) {
      const list = document.getElementById("lines");
      list.replaceChildren();
      const marks = { heard: "heard", cut: "cut off", failed: "failed", playing: "playing",
                      unheard: "not heard" };
      for (const line of s.lines) {
        const li = el("li", "line " + line.who + (line.status ? " " + line.status : ""));
        li.append(el("span", "at", secs(line.t)));
        li.append(el("span", "who", line.who === "barge" ? "barge-in" : line.who));
        li.append(el("span", "text", line.text));
        if (line.status) li.append(el("span", "mark", marks[line.status]));
        list.append(li);
      }
    }

    const STAGES = ["final_transcript", "retrieval", "llm_first_token", "first_sentence",
                    "tts_first_byte", "first_frame", "first_mark"];
    function drawBars(s) {
      const bars = document.getElementById("bars");
      bars.replaceChildren();
      let longest = 1;
      for (const turn of s.turns) {
        for (const v of Object.values(turn.ms)) longest = Math.max(longest, v);
      }
      for (const turn of s.turns) {
        const row = el("div", "turn");
        row.append(el("span", "label", "turn " + turn.n));
        const bar = el("div", "bar");
        let from = 0;
        for (const stage of STAGES) {
          if (!(stage in turn.ms)) continue;
          const upTo = turn.ms[stage];
          const seg = el("span", "seg s-" + stage);
          seg.style.width = (100 * Math.max(0, upTo - from) / longest).toFixed(2) + "%";
          seg.title = stage.replace(/_/g, " ") + ": " + (upTo - from).toFixed(1) + " ms (at " +
            upTo.toFixed(1) + " ms)";
          bar.append(seg);
          from = Math.max(from, upTo);
        }
        row.append(bar, el("span", "total", from.toFixed(0) + " ms"));
        bars.append(row);
      }
      if (!s.turns.length) bars.append(el("p", "hint", "no finished turn yet"));
    }

    function detail(it) {
      switch (it.k) {
        case "ev": return [it.e, it.b === it.a ? it.a : it.b + " -> " + it.a,
          [it.x.join(", "), it.n, it.d].filter(Boolean).join(" · ")];
        case "agent": return ["agent says", "", it.text];
        case "tool": return ["tool " + it.name, it.ok ? "ok" : "failed", it.args + " -> " + it.res];
        case "transfer": return ["transfer", it.ok ? "connected" : "failed", it.to + ": " + it.text];
        case "timer": return ["timer", it.e ? "armed" : "none", it.e ? it.e + " in " + it.left + " s" : ""];
        case "turn": return ["turn " + it.n, "latency", JSON.stringify(it.ms)];
        case "end": return ["call ended", it.state, ""];
        default: return [it.k, "", it.text || it.id || ""];
      }
    }

    function drawTrace(s) {
      const rows = document.getElementById("trace-rows");
      rows.replaceChildren();
      for (const it of s.trace.slice(-400)) {
        const tr = el("tr", "k-" + it.k + (it.h === 0 ? " unhandled" : ""));
        const [what, state, more] = detail(it);
        tr.append(el("td", "at", it.t.toFixed(3)), el("td", "", what), el("td", "", state),
          el("td", "", more));
        rows.append(tr);
      }
    }

    function render() {
      const end = Math.ceil(latest() * 100) / 100; // the range's steps are 0.01 s
      scrubber.max = end.toFixed(2);
      if (follow.checked) scrubber.value = end.toFixed(2);
      const at = Number(scrubber.value);
      const s = stateAt(at + 0.005);
      document.body.dataset.state = s.state;
      document.body.dataset.at = at.toFixed(2);
      document.getElementById("current-state").textContent = s.state || "-";
      clock.textContent = secs(at) + " / " + secs(end);
      let timer = "-";
      if (s.timer) timer = s.timer.event + " in " + Math.max(0, s.timer.deadline - at).toFixed(1) + " s";
      document.getElementById("timer").textContent = timer;
      document.getElementById("status").textContent = s.end ? "ended: " + s.end.state :
        ended ? "ended: " + (call && call.ended ? call.ended : "?") : "live";
      drawDiagram(s);
      drawLines(s);
      drawBars(s);
      drawTrace(s);
    }

    scrubber.addEventListener("input", () => { follow.checked = false; render(); });
    follow.addEventListener("change", render);
    document.getElementById("play").addEventListener("click", () => {
      if (playing) { clearInterval(playing); playing = null; return; }
      follow.checked = false;
      const end = Math.ceil(latest() * 100) / 100;
      const step = Math.max(0.05, end / 200); // a whole call replays in about 10 s
      scrubber.value = "0";
      playing = setInterval(() => {
        const next = Math.min(end, Number(scrubber.value) + step);
        scrubber.value = next.toFixed(2);
        render();
        if (next >= end) { clearInterval(playing); playing = null; }
      }, 50);
      render();
    });

    const source = new EventSource("/console/calls/" + encodeURIComponent(meta.key) + "/events");
    source.addEventListener("items", (e) => {
      const data = JSON.parse(e.data);
      clockOffset = data.now - Date.now() / 1000;
      for (const item of data.items) items[item.i] = item;
      call = data.call;
      if (!playing) render();
    });
    source.addEventListener("done", (e) => {
      const data = JSON.parse(e.data);
      call = data.call;
      ended = true;
      source.close();
      document.body.dataset.loaded = "1";
      if (!playing) render();
    });
    setInterval(() => { if (!ended && !playing) render(); }, 500);
  }

  if (page === "calls") liveList();
  if (page === "call") callPage();
})();
