// The game-day console: reads the run's state and its change stream with the role's
// token (from the URL's fragment, sent only in the Authorization header) and draws it.
// Every text goes in through textContent: nothing a note or an alert says is markup.
"use strict";

const params = new URLSearchParams(location.hash.slice(1));
const token = params.get("token");
const role = params.get("role");
const NAME_KEY = "edx-console-name";
const SVG = "http://www.w3.org/2000/svg";
let state = null;
let seen = 0;  // the last message's sequence number
let allowed = [];  // what this role may do (from /api/state)
// Delivery of each change, runner event to this page, in seconds (the bench reads it).
window.consoleLatencies = [];

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function problem(text) {
  $("problem").hidden = !text;
  $("problem").textContent = text || "";
}

async function api(path, body) {
  const options = {headers: {"Authorization": "Bearer " + token}, cache: "no-store"};
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify({...body, name: localStorage.getItem(NAME_KEY)});
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.status + " " + response.statusText);
  return data;
}

// -- formatting ------------------------------------------------------------------------

function reading(value, slo) {
  if (value === null || value === undefined) return "n/a";
  return slo.type === "latency" ? value.toFixed(0) + " ms" : (value * 100).toFixed(2) + "%";
}

function pct(value) {
  return value === null || value === undefined ? "n/a" : (value * 100).toFixed(3) + "%";
}

function ago(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  return seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
}

function intoRun(t) {
  const start = state.run.load_started;
  return start ? "+" + ago(t - start) : new Date(t * 1000).toISOString().slice(11, 19);
}

// -- drawing ---------------------------------------------------------------------------

function rows(tableId, items, cells) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren(...items.map((item) => {
    const tr = el("tr");
    for (const [text, cls] of cells(item)) tr.append(el("td", text, cls));
    tr.dataset.key = item.name || item.index;
    return tr;
  }));
}

function draw() {
  const s = state;
  for (const button of document.querySelectorAll("[data-can]")) {
    const can = allowed.includes(button.dataset.can);
    button.hidden = !can || (button.id === "hold" && s.hold.held) || (button.id === "release" && !s.hold.held);
  }
  const now = s.now + (Date.now() / 1000 - s.received);
  $("title").textContent = "Game day: " + s.run.name + " (" + (s.run.environment || "") + ")";
  $("status").textContent = s.run.status;
  $("phase").textContent = s.run.phase;
  $("clock").textContent = s.run.load_started ? "load running " + ago(now - s.run.load_started) : "";
  const live = s.steps.filter((step) => step.state === "live");
  $("live-fault").textContent = live.length ? live.map((step) => step.name).join(", ") : "none";
  $("live-fault").className = live.length ? "bad" : "";
  $("hold-line").textContent = s.hold.held
    ? "HELD by " + s.hold.by + " for " + ago(now - s.hold.since) + ": the next fault waits"
    : (s.hold.total_s ? "held " + ago(s.hold.total_s) + " so far" : "");
  rows("timeline", s.steps, (step) => [
    [step.name], [step.offset_s + " s"], [step.state, step.state === "live" ? "bad" : ""],
    [step.due ? (s.hold.held ? "held" : ago(step.due - now)) : ""]]);
  rows("slos", s.slos, (slo) => [
    [slo.title], [reading(slo.value, slo), slo.met === false ? "bad value" : "value"],
    [slo.burn_rate === null ? "n/a" : slo.burn_rate.toFixed(1) + "x"], [pct(slo.budget_burned)]]);
  $("rate").textContent = s.rate.toFixed(0);
  $("no-aborts").hidden = s.aborts.length > 0;
  $("aborts").hidden = !s.aborts.length;
  rows("aborts", s.aborts, (cond) => {
    const r = cond.reading;
    if (!r) return [[cond.title], ["no reading yet"], [""]];
    if (cond.kind === "probe") return [[cond.title], [JSON.stringify(r.output)], [r.within ? "within tolerance" : "OUTSIDE", r.within ? "" : "bad"]];
    const burns = r.windows.map((w) => (w.burn_rate === null ? "n/a" : w.burn_rate.toFixed(1) + "x") + " over " + w.window_s + " s");
    const share = Math.min(...r.windows.map((w) => (w.burn_rate || 0) / r.limit));
    return [[cond.title], [burns.join(", ") + (r.armed ? "" : " (armed at the first fault)")],
            [(share * 100).toFixed(0) + "% of " + r.limit + "x", share >= 1 ? "bad" : ""]];
  });
  const g = s.generators;
  $("generators").textContent = g.workers === null ? "load: one Locust process"
    : "load generators: " + g.workers + " connected, " + g.joined + " joined, " + g.lost + " lost, " + g.refused + " refused";
  const m = s.monitoring;
  $("monitoring-line").textContent = m.error ? "monitoring unreadable: " + m.error
    : (m.source ? "from " + m.source : "no monitoring for this environment");
  $("alerts").replaceChildren(...m.alerts.map((a) => el("li", "FIRING " + a.alert + " (" + a.slo + ", " + a.severity + ") for " + ago(now - a.start), "bad")));
  $("pages").replaceChildren(...m.pages.map((p) => el("li", "page " + p.alert + " " + ago(now - p.received) + " ago: "
    + (p.acked ? "acknowledged by " + p.acked_by : "OPEN"), p.acked ? "" : "bad")));
  drawCharts();
}

function drawNotes() {
  $("notes").replaceChildren(...state.notes.map((n) => {
    const li = el("li", null, "note");
    li.append(el("span", intoRun(n.t) + (n.during ? " during " + n.during : "") + " · " + n.by + " (" + n.role.replace("_", " ") + "): ", "meta"));
    li.append(el("span", n.text, "text"));
    return li;
  }));
  $("events").replaceChildren(...state.events.slice(-30).reverse().map((e) =>
    el("li", intoRun(e.t) + " " + e.event + (e.experiment ? " " + e.experiment : "") + (e.reason ? ": " + e.reason : "") + (e.by ? " by " + e.by : ""))));
}

function drawCharts() {
  const s = state;
  const points = s.series;
  if (!points.length) return;
  const t0 = s.run.load_started || points[0].t;
  const t1 = Math.max(points[points.length - 1].t, t0 + 60);
  const W = 600, H = 90;
  const x = (t) => ((t - t0) / (t1 - t0)) * W;
  $("charts").replaceChildren(...s.slos.map((slo) => {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + (H + 14));
    svg.setAttribute("class", "chart");
    for (const step of s.steps.filter((st) => st.fault_start)) {
      const band = document.createElementNS(SVG, "rect");
      band.setAttribute("x", x(step.fault_start));
      band.setAttribute("width", Math.max(1, x(step.fault_end || points[points.length - 1].t) - x(step.fault_start)));
      band.setAttribute("y", 0); band.setAttribute("height", H); band.setAttribute("class", "fault");
      svg.append(band);
    }
    const values = points.map((p) => p[slo.name]).filter((v) => v !== null && v !== undefined);
    const goal = slo.type === "latency" ? slo.threshold_ms : slo.objective;
    let lo = Math.min(goal, ...values), hi = Math.max(goal, ...values);
    if (hi === lo) { hi += 1; lo -= 1; }
    const y = (v) => H - ((v - lo) / (hi - lo)) * H;
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.filter((p) => p[slo.name] !== null && p[slo.name] !== undefined)
      .map((p) => x(p.t).toFixed(1) + "," + y(p[slo.name]).toFixed(1)).join(" "));
    line.setAttribute("class", "value");
    const target = document.createElementNS(SVG, "line");
    target.setAttribute("x1", 0); target.setAttribute("x2", W);
    target.setAttribute("y1", y(goal)); target.setAttribute("y2", y(goal)); target.setAttribute("class", "target");
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", 2); label.setAttribute("y", H + 12);
    label.textContent = slo.title + " (target " + reading(goal, slo) + "; faults shaded)";
    svg.append(line, target, label);
    return svg;
  }));
}

// -- the change stream -----------------------------------------------------------------

function apply(message) {
  if (message.seq <= seen) return;
  seen = message.seq;
  window.consoleLatencies.push(Date.now() / 1000 - message.t);
  if (message.kind === "state") {
    state = message.state;
  } else {
    Object.assign(state, message.state);
    if (message.point) state.series.push(message.point);
    if (message.event) {
      state.events.push(message.event);
      if (message.event.event === "note") state.notes.push(message.event);
    }
  }
  state.received = Date.now() / 1000;
  draw();
  if (message.kind !== "tick") drawNotes();
}

async function follow() {
  // EventSource cannot send an Authorization header: read the stream with fetch.
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch("/api/events", {headers: {"Authorization": "Bearer " + token}, cache: "no-store"});
      if (response.status === 401 || response.status === 403) {
        problem("This link's token is not valid for this run."); return;
      }
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      problem("");
      attempt = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) apply(JSON.parse(data));
        }
      }
      if (state && state.run.status !== "running") { problem("The run has ended: its report has everything."); return; }
    } catch (error) {
      problem("Connection to the runner lost (" + error.message + "); retrying");
    }
    await new Promise((r) => setTimeout(r, Math.min(5000, 500 * (attempt + 1))));
  }
}

// -- the team's actions ----------------------------------------------------------------

async function act(action, body, done) {
  $("action-result").textContent = "";
  try {
    const result = await api("/api/" + action, body || {});
    $("action-result").textContent = result.message || action + ": done";
    if (done) done();
  } catch (error) {
    $("action-result").textContent = action + " refused: " + error.message;
  }
}

function confirmThen(text, action) {
  $("confirm-text").textContent = text;
  $("confirm").hidden = false;
  $("confirm-yes").onclick = () => { $("confirm").hidden = true; act(action, {confirm: true}); };
  $("confirm-no").onclick = () => { $("confirm").hidden = true; };
}

async function start() {
  if (!token || !role) { problem("Open the console with the URL the run printed for your role."); return; }
  try {
    state = await api("/api/state");
  } catch (error) { problem("The console refused this link: " + error.message); return; }
  state.received = Date.now() / 1000;
  seen = state.seq;
  allowed = state.can;
  $("who").textContent = localStorage.getItem(NAME_KEY) + " · " + state.role.replace("_", " ");
  $("console").hidden = false;
  draw(); drawNotes();
  $("note-form").onsubmit = (event) => {
    event.preventDefault();
    act("note", {text: $("note-text").value}, () => { $("note-text").value = ""; });
  };
  $("ack").onclick = () => act("ack");
  $("release").onclick = () => act("release");
  $("hold").onclick = () => confirmThen("Hold the game day? The next fault waits until you release it; the load keeps running and the game day's time limit still counts.", "hold");
  $("abort").onclick = () => confirmThen("Abort the game day? Every fault is rolled back and the run ends as aborted.", "abort");
  setInterval(() => { if (state) draw(); }, 1000);
  follow();
}

function signIn() {
  if (localStorage.getItem(NAME_KEY)) { start(); return; }
  $("sign-in").hidden = false;
  $("sign-in").onsubmit = (event) => {
    event.preventDefault();
    const name = $("name-input").value.trim();
    if (!name) return;
    localStorage.setItem(NAME_KEY, name);
    $("sign-in").hidden = true;
    start();
  };
}

signIn();
