// The site's configuration form. Validation is the API's: a refused change comes back as a
// 400 whose details name the fields, and each problem is shown at its field.

import { call, get, sentence } from "./api.js";
import { h, replace, when } from "./dom.js";

const READ_ONLY = new Set(["site_id", "last_run_at", "next_run_at"]);
const LABELS = {
  is_enabled: "Run on a schedule",
  frequency: "Frequency",
  scheduled_time: "Time (HH:MM, UTC)",
  within_stage_delay: "Delay between batches (s)",
  between_stage_delay: "Delay between stages (s)",
  ai_concurrency: "AI calls in flight",
};
const HINTS = { frequency: "weekly runs on Mondays, monthly on the 1st" };
const FREQUENCIES = ["daily", "weekly", "monthly"];

function label(field) {
  const batch = /^stage_(\d)_batch_size$/.exec(field);
  if (batch) return `Stage ${batch[1]} batch size`;
  return LABELS[field] ?? field.replaceAll("_", " ");
}

export class ConfigForm {
  constructor(site) {
    this.site = site;
    this.inputs = new Map();
    this.errors = new Map();
    this.fields = h("div", { class: "fields" });
    this.status = h("p", { id: "config-status", class: "notice", role: "status", hidden: true });
    this.schedule = h("p", { class: "muted small" });
    this.form = h("form", { id: "config-form", novalidate: true, onsubmit: (event) => this.save(event) },
      this.fields, this.schedule, this.status,
      h("button", { id: "save-config", type: "submit", class: "primary", text: "Save configuration" }));
    this.element = h("section", { class: "card", "aria-labelledby": "config-title" },
      h("div", { class: "card-head" }, h("h2", { id: "config-title" }, "Configuration")),
      this.form);
  }

  async load() {
    try {
      this.render(await get("/api/v1/automation/config", { site_id: this.site.id }));
    } catch (error) {
      this.say(sentence(error), "error");
    }
  }

  render(config) {
    this.inputs.clear();
    this.errors.clear();
    replace(this.fields, Object.entries(config).filter(([field]) => !READ_ONLY.has(field))
      .map(([field, value]) => this.field(field, value)));
    this.showSchedule(config);
  }

  showSchedule(config) {
    this.schedule.textContent = `Last run: ${when(config.last_run_at)} · next scheduled run: ${
      config.next_run_at ? when(config.next_run_at) : "none"}`;
  }

  // After a run starts: the read-only times change, the fields being edited must not.
  async refreshSchedule() {
    try {
      this.showSchedule(await get("/api/v1/automation/config", { site_id: this.site.id }));
    } catch {
      // the form keeps what it shows; the next load tells
    }
  }

  field(name, value) {
    const id = `config-${name}`;
    let input;
    if (typeof value === "boolean") {
      input = h("input", { id, name, type: "checkbox", checked: value });
    } else if (name === "frequency") {
      input = h("select", { id, name }, FREQUENCIES.map((f) => h("option", { value: f, text: f, selected: f === value })));
    } else if (typeof value === "number") {
      input = h("input", { id, name, type: "number", inputmode: "decimal", step: "any", value: String(value) });
    } else {
      input = h("input", { id, name, type: "text", value: value ?? "", spellcheck: "false" });
    }
    const error = h("span", { class: "field-error", id: `${id}-error` });
    input.setAttribute("aria-describedby", error.id);
    this.inputs.set(name, input);
    this.errors.set(name, error);
    const kind = input.type === "checkbox" ? "field check" : "field";
    return h("div", { class: kind }, h("label", { for: id, text: label(name) }), input,
      HINTS[name] ? h("span", { class: "hint", text: HINTS[name] }) : null, error);
  }

  // Numbers go as numbers; anything else as typed, so the API says what is wrong with it.
  values() {
    const body = {};
    for (const [name, input] of this.inputs) {
      if (input.type === "checkbox") body[name] = input.checked;
      else if (input.type === "number") body[name] = input.value.trim() === "" || Number.isNaN(Number(input.value))
        ? input.value : Number(input.value);
      else body[name] = input.value;
    }
    return body;
  }

  async save(event) {
    event.preventDefault();
    this.clearErrors();
    try {
      const config = await call("PUT", "/api/v1/automation/config", { params: { site_id: this.site.id }, body: this.values() });
      this.render(config);
      this.say("Saved. Changes apply from the next run.", "info");
      this.form.dispatchEvent(new CustomEvent("saved", { bubbles: true }));
    } catch (error) {
      this.say(sentence(error), "error");
      this.markFields(error.details ?? {});
    }
  }

  markFields(details) {
    const problems = (details.problems ?? []).map((p) => [p.field, p.problem]);
    for (const field of details.fields ?? []) problems.push([field, "a value is required"]);
    for (const [field, problem] of problems) {
      const name = field.split(".").at(-1);
      const error = this.errors.get(name);
      if (!error) continue;
      error.textContent = problem.charAt(0).toUpperCase() + problem.slice(1);
      this.inputs.get(name).setAttribute("aria-invalid", "true");
    }
  }

  clearErrors() {
    for (const error of this.errors.values()) error.textContent = "";
    for (const input of this.inputs.values()) input.removeAttribute("aria-invalid");
    this.say(null);
  }

  say(text, kind) {
    this.status.hidden = !text;
    this.status.textContent = text ?? "";
    this.status.className = `notice ${kind ?? ""}`;
  }
}
