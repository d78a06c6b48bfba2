// Colour matching for installers: pick a panel on the wall map, nudge its gain, gamma and
// brightness live (POST /api/panel/colour), save it into the wall file. Loaded after tablet.js,
// whose helpers (el, say, api, switchTo, pct, state) it uses. See docs/calibration.md.
"use strict";

// [key, accessible name, slider min, slider max]; a panel's value beyond max widens its slider.
const COLOUR_SETTINGS = [
  ["red", "Red gain", 0, 2],
  ["green", "Green gain", 0, 2],
  ["blue", "Blue gain", 0, 2],
  ["gamma", "Gamma", 0.2, 3],
  ["brightness", "Brightness", 0, 2],
];
const COLOUR_STEP = 0.01;
const NUDGE_DELAY_MS = 150;  // a slider drag becomes a few requests, not one per pixel
const colour = { panel: null, colours: new Map(), inputs: {}, timer: null, sent: Promise.resolve() };

function buildColourSettings() {
  for (const [key, name, min, max] of COLOUR_SETTINGS) {
    const id = `colour-${key}`;
    const input = el("input", { type: "range", id, min, max, step: COLOUR_STEP, value: 1 });
    const shown = el("output", { textContent: "1.00" });
    const lower = el("button", { type: "button", textContent: "−" });
    const raise = el("button", { type: "button", textContent: "+" });
    lower.setAttribute("aria-label", `Lower ${name.toLowerCase()}`);
    raise.setAttribute("aria-label", `Raise ${name.toLowerCase()}`);
    shown.setAttribute("aria-hidden", "true");  // the slider says its value itself
    const moved = () => { shown.textContent = input.valueAsNumber.toFixed(2); nudgeLater(); };
    input.addEventListener("input", moved);
    lower.addEventListener("click", () => { input.stepDown(); moved(); });
    raise.addEventListener("click", () => { input.stepUp(); moved(); });
    colour.inputs[key] = { input, shown, max };
    $("colour-settings").append(el("label", { htmlFor: id, textContent: name }), lower, input,
                                raise, shown);
  }
}

function showColour(color) {
  const values = { red: color.gain[0], green: color.gain[1], blue: color.gain[2],
                   gamma: color.gamma, brightness: color.brightness };
  for (const [key, { input, shown, max }] of Object.entries(colour.inputs)) {
    input.max = Math.max(max, values[key]);
    input.value = values[key];
    shown.textContent = values[key].toFixed(2);
  }
}

function pickPanel(id) {
  if (colour.timer !== null) sendColour(false);  // the last nudge of the panel left
  colour.panel = id;
  for (const button of $("colour-panels").children) {
    button.setAttribute("aria-pressed", String(button.dataset.panel === id));
  }
  showColour(colour.colours.get(id));
}

async function loadColours() {
  const wall = await api("GET", "/api/wall");
  const box = $("colour-panels");
  box.style.aspectRatio = `${wall.canvas[0]} / ${wall.canvas[1]}`;
  box.replaceChildren(...wall.panels.map((panel) => {
    colour.colours.set(panel.id, panel.color);
    const [x, y, w, h] = panel.rect;
    const button = el("button", { type: "button", className: "panel", textContent: panel.id,
                                  disabled: !state.unlocked });
    button.dataset.panel = panel.id;
    Object.assign(button.style, { left: pct(x), top: pct(y), width: pct(w), height: pct(h) });
    button.addEventListener("click", () => pickPanel(panel.id));
    return button;
  }));
  pickPanel(colour.colours.has(colour.panel) ? colour.panel : wall.panels[0].id);
}

function nudgeLater() {
  clearTimeout(colour.timer);
  colour.timer = setTimeout(() => sendColour(false), NUDGE_DELAY_MS);
}

// The panel's values now; requests go one after the other, in the order they were made.
function sendColour(save) {
  clearTimeout(colour.timer);
  colour.timer = null;
  const value = (key) => colour.inputs[key].input.valueAsNumber;
  const panel = colour.panel;
  const body = { panel, gain: [value("red"), value("green"), value("blue")],
                 gamma: value("gamma"), brightness: value("brightness"), save };
  colour.colours.set(panel, body);
  colour.sent = colour.sent.then(async () => {
    try {
      const answer = await api("POST", "/api/panel/colour", body);
      say(save ? `Saved the colour of ${panel} into ${answer.saved}`
               : `${panel}: gain ${answer.gain.join(" ")}, gamma ${answer.gamma}, `
                 + `brightness ${answer.brightness}`);
    } catch (error) {
      say(error.message, true);
      loadColours().catch(() => {});  // show what the wall has, not what was refused
    }
  });
}

buildColourSettings();
$("colour").addEventListener("toggle", () => {
  if ($("colour").open) loadColours().catch((error) => say(error.message, true));
});
$("colour-fields").addEventListener("click", () => switchTo("calibration-colour"));
$("colour-save").addEventListener("click", () => sendColour(true));
