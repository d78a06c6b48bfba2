// The presenter's tablet: scenario buttons, live status by server-sent events, wall health,
// tours, safe screen, alerts and moderation. Plain JavaScript, no build step, no outside assets.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { scenarios: [], status: null, unlocked: false, pinRequired: true, wall: null,
                pending: null, queue: null, loadedAt: 0 };
// Tap-to-switch times as the page sees them (read by benchmarks/tablet.py).
window.wallTimings = [];

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

async function api(method, path, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const answer = await fetch(path, options);
  const data = await answer.json().catch(() => ({}));
  if (answer.status === 401) { state.unlocked = false; renderLock(); }
  if (!answer.ok) {
    const error = new Error(data.error || `HTTP ${answer.status}`);
    error.data = data;
    throw error;
  }
  return data;
}

async function act(what, path, body) {
  try {
    const result = await api("POST", path, body);
    say(what);
    return result;
  } catch (error) {
    say(error.message, true);
    return null;
  }
}

// --- lock -----------------------------------------------------------------------------

function renderLock() {
  $("unlock").hidden = state.unlocked || !state.pinRequired;
  $("unlocked").hidden = !state.unlocked;
  $("moderation").hidden = !state.unlocked || state.queue === null;
  for (const control of document.querySelectorAll("main button, main input, main select")) {
    control.disabled = !state.unlocked;
  }
  renderTourControls();
}

$("unlock").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const session = await api("POST", "/api/session", { pin: $("pin").value, name: "tablet" });
    state.unlocked = true;
    $("who").textContent = `Unlocked (${session.name})`;
    $("pin").value = "";
    say("Unlocked");
    renderLock();
    refreshQueue();
  } catch (error) {
    say(error.message, true);
  }
});

$("lock").addEventListener("click", async () => {
  await fetch("/api/session", { method: "DELETE", credentials: "same-origin" });
  state.unlocked = false;
  renderLock();
});

// --- scenarios ------------------------------------------------------------------------

function renderScenarios() {
  const box = $("scenarios");
  box.replaceChildren();
  for (const scenario of state.scenarios) {
    const img = el("img", { alt: "", loading: "lazy" });
    if (scenario.thumbnail) img.src = scenario.thumbnail;
    const button = el("button", { type: "button", className: "scenario" }, img,
                      el("span", { className: "name", textContent: scenario.name }),
                      el("span", { className: "state" }));
    button.dataset.name = scenario.name;
    button.addEventListener("click", () => switchTo(scenario.name));
    box.append(button);
  }
  renderLive();
  renderLock();
}

function everyPanelShows(name) {
  const status = state.status;
  if (!status || status.scenario !== name) return false;
  return status.renderers.filter((r) => r.connected).every((r) => r.scenario === name);
}

function renderLive() {
  const status = state.status;
  if (state.pending && everyPanelShows(state.pending.name)) {
    window.wallTimings.push(performance.now() - state.pending.tapped);
    say(`${state.pending.name} is on every panel`);
    state.pending = null;
  }
  for (const button of document.querySelectorAll(".scenario")) {
    const name = button.dataset.name;
    const live = status && status.scenario === name && !state.pending;
    const switching = state.pending && state.pending.name === name;
    button.classList.toggle("live", Boolean(live));
    button.classList.toggle("switching", Boolean(switching));
    button.setAttribute("aria-pressed", String(Boolean(live)));
    button.setAttribute("aria-busy", String(Boolean(switching)));
    button.querySelector(".state").textContent = switching ? "switching…" : live ? "live" : "";
  }
  $("live-name").textContent = status ? status.scenario : "…";
}

async function switchTo(name) {
  state.pending = { name, tapped: performance.now() };
  renderLive();
  const result = await act(`Switching to ${name}`, "/api/scenario", { name });
  if (!result) { state.pending = null; renderLive(); }
}

async function loadScenarios() {
  state.loadedAt = performance.now();
  const data = await api("GET", "/api/scenarios");
  state.scenarios = data.scenarios;
  renderScenarios();
}

$("safe").addEventListener("click", async () => {
  state.pending = { name: "safe-screen", tapped: performance.now() };
  renderLive();
  if (!(await act("Safe screen on the whole wall", "/api/safe-screen"))) state.pending = null;
});

$("reload").addEventListener("click", async () => {
  $("problems").replaceChildren();
  try {
    const report = await api("POST", "/api/scenarios/reload");
    say(`Reloaded: ${report.scenarios.length} scenarios`);
  } catch (error) {
    say(error.message, true);
    for (const problem of (error.data && error.data.problems) || []) {
      $("problems").append(el("li", { textContent: problem }));
    }
  }
  loadScenarios();
});

// --- tours: the tour files, and the running tour's step, caption and time to its next step --

const tours = { names: [], running: null, receivedAt: 0, buttons: {} };
const TOUR_ACTIONS = [
  ["Start tour", "/api/tour/start", () => ({ name: $("tour-name").value })],
  ["Previous", "/api/tour/previous"],
  ["Hold", "/api/tour/hold", () => ({ held: !(tours.running && tours.running.held) })],
  ["Next", "/api/tour/next"],
  ["Stop tour", "/api/tour/stop"],
];
for (const [label, path, body] of TOUR_ACTIONS) {
  const button = el("button", { type: "button", textContent: label });
  button.addEventListener("click", async () => {
    const result = await act(label, path, body ? body() : undefined);
    if (result) renderTour(result.tour || null);  // at once; the event stream follows
  });
  tours.buttons[label] = button;
  $("tour").append(button);
}

async function loadTours() {
  const data = await api("GET", "/api/tours");
  const select = $("tour-name");
  const chosen = select.value;
  tours.names = data.tours.map((t) => t.name);
  select.replaceChildren(...data.tours.map((t) => el("option", {
    value: t.name, textContent: `${t.name} (${t.steps.length} steps)` })));
  if (tours.names.includes(chosen)) select.value = chosen;
  renderTour(data.running);
}

function setText(id, text) {
  if ($(id).textContent !== text) $(id).textContent = text;  // no repeats for screen readers
}

function renderTour(running) {
  tours.running = running || null;
  tours.receivedAt = performance.now();
  const r = tours.running;
  setText("tour-running", r
    ? `${r.name}: step ${r.step + 1} of ${r.steps}, ${r.scenario}${r.held ? " (held)" : ""}`
    : tours.names.length ? "No tour is running"
      : "No tour files: start the controller with --tours DIR");
  $("tour-caption").hidden = !(r && r.caption);
  setText("tour-caption", r && r.caption ? `“${r.caption}”` : "");
  renderCountdown();
  renderTourControls();
}

function renderCountdown() {
  const r = tours.running;
  let text = "";
  if (r && r.held) {
    text = "Held: tap Hold to carry on";
  } else if (r && typeof r.left_s === "number") {
    const left = Math.ceil(Math.max(0, r.left_s - (performance.now() - tours.receivedAt) / 1000));
    text = `Next step in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  }
  setText("tour-next", text);
}
setInterval(renderCountdown, 500);

function renderTourControls() {
  const locked = !state.unlocked;
  $("tour-name").disabled = locked || !tours.names.length;
  tours.buttons["Start tour"].disabled = locked || !tours.names.length;
  for (const label of ["Previous", "Hold", "Next", "Stop tour"]) {
    tours.buttons[label].disabled = locked || !tours.running;
  }
  tours.buttons.Hold.setAttribute("aria-pressed", String(Boolean(tours.running
                                                                  && tours.running.held)));
}

// --- the wall: preview, panel tiles laid out like the wall, sources -----------------------

function renderPanels() {
  const wall = state.wall;
  const box = $("panels");
  if (!wall) return;
  box.style.aspectRatio = `${wall.canvas[0]} / ${wall.canvas[1]}`;
  const rows = new Map((state.status ? state.status.renderers : []).map((r) => [r.id, r]));
  box.replaceChildren();
  for (const panel of wall.panels) {
    const r = rows.get(panel.id) || { connected: false };
    const [x, y, w, h] = panel.rect;
    const stale = r.connected && state.status && r.scenario !== state.status.scenario;
    const tile = el("div", { role: "listitem",
                             className: `panel${r.connected ? "" : " down"}${stale ? " stale" : ""}` },
      el("b", { textContent: panel.id }),
      r.connected
        ? `${r.scenario || "?"} · ${fmt(r.fps)} fps · ${fmt(r.latency_ms)} ms`
        : "not connected");
    Object.assign(tile.style, { left: pct(x), top: pct(y), width: pct(w), height: pct(h) });
    box.append(tile);
  }
}

const pct = (v) => `${(100 * v).toFixed(3)}%`;
const fmt = (v) => (typeof v === "number" ? v.toFixed(v < 10 ? 1 : 0) : "–");

function renderSources(sources) {
  $("sources").replaceChildren(...sources.map((s) => el("li", {
    className: s.state,
    textContent: `${s.name}: ${s.state} · ${s.ingested} in · ${s.dropped} dropped`,
  })));
}

let previewVersion = null;
function renderPreview(version) {
  if (version === null || version === undefined || version === previewVersion) return;
  previewVersion = version;
  $("preview").hidden = false;
  $("preview").src = `/api/preview.png?v=${version}`;
}

// --- alerts: the crisis prompt ------------------------------------------------------------

function renderPrompts(alerts) {
  const open = (alerts || []).filter((a) => !a.acknowledged_by);
  $("prompts").replaceChildren(...open.map((alert) => {
    const actions = el("div", { className: "row" });
    if (alert.suggest_scenario) {
      const go = el("button", { type: "button", className: "danger",
                                textContent: `Switch to ${alert.suggest_scenario}` });
      go.addEventListener("click", async () => {
        await switchTo(alert.suggest_scenario);
        act("Alert acknowledged", "/api/alerts/ack", { id: alert.id });
      });
      actions.append(go);
    }
    const dismiss = el("button", { type: "button", textContent: "Dismiss" });
    dismiss.addEventListener("click", () => act("Alert dismissed", "/api/alerts/ack", { id: alert.id }));
    actions.append(dismiss);
    return el("div", { className: "prompt", role: "alert" },
              el("b", { textContent: `${alert.kind} about ${alert.brand}: ` }),
              alert.reason || "", actions);
  }));
  renderLock();
}

// --- moderation queue ---------------------------------------------------------------------

async function refreshQueue() {
  if (!state.unlocked) return;
  try {
    state.queue = (await api("GET", "/api/moderation/queue")).queue;
  } catch (error) {
    state.queue = null;  // no data sources on this wall
  }
  $("queue").replaceChildren(...(state.queue || []).map((post) => {
    const approve = el("button", { type: "button", textContent: `Approve @${post.handle || post.id}` });
    const reject = el("button", { type: "button", textContent: `Reject @${post.handle || post.id}` });
    approve.addEventListener("click", async () => {
      await act("Approved", "/api/moderation/approve", { id: post.id }); refreshQueue();
    });
    reject.addEventListener("click", async () => {
      await act("Rejected", "/api/moderation/reject", { id: post.id, reason: "tablet" });
      refreshQueue();
    });
    return el("li", {}, el("div", { textContent: post.text || "" }),
              el("div", { className: "row" }, approve, reject));
  }));
  renderLock();
}

// --- live events ----------------------------------------------------------------------------

let lastQueue = null;
function onStatus(status) {
  const known = new Set(state.scenarios.map((s) => s.name));
  state.status = status;
  renderLive();
  renderPanels();
  renderSources(status.sources || []);
  renderTour(status.tour);
  renderPrompts(status.alerts);
  renderPreview(status.preview);
  const waitingForPictures = state.scenarios.some((s) => !s.thumbnail)
    && performance.now() - state.loadedAt > 3000;
  if (status.scenarios.some((n) => !known.has(n)) || status.scenarios.length !== known.size
      || waitingForPictures) {
    loadScenarios();
  }
  if (status.queue !== lastQueue) { lastQueue = status.queue; refreshQueue(); }
}

function listen() {
  const events = new EventSource("/api/events");
  events.addEventListener("status", (event) => onStatus(JSON.parse(event.data)));
  events.onerror = () => say("Reconnecting to the wall…", true);
  events.onopen = () => say("");
}

async function start() {
  const session = await api("GET", "/api/session");
  state.pinRequired = session.pin_required;
  state.unlocked = session.unlocked;
  if (!session.pin_required) say("No PIN is set: start the controller with --pin to unlock this page");
  if (session.unlocked) $("who").textContent = `Unlocked (${session.name})`;
  state.wall = await api("GET", "/api/wall");
  await loadScenarios();
  await loadTours();
  listen();
  refreshQueue();
}

start().catch((error) => say(error.message, true));
