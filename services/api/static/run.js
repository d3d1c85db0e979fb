// The live run: status, a progress bar per stage, steering buttons and the log, all fed by
// the site's event stream (run snapshots and log lines).

import { call, sentence } from "./api.js";
import { h, logLine, number, replace, stageLabel, when } from "./dom.js";

const ENDED = new Set(["completed", "cancelled", "failed"]);
const MAX_LINES = 300;
const PAUSE_REASONS = {
  user: "Paused by a user.",
  insufficient_credits: "Paused because the account ran out of credits. Add credits, then resume.",
};

export function stagePercent(result) {
  if (!result) return 0;
  if (result.completed_at) return 100;
  const done = result.items_processed + result.items_failed;
  return result.items_total > 0 ? Math.min(100, Math.floor((100 * done) / result.items_total)) : 0;
}

export class RunPanel {
  constructor(site, stages, { onRunChanged }) {
    this.site = site;
    this.run = null;
    this.onRunChanged = onRunChanged;
    this.status = h("span", { id: "run-status", class: "badge idle", text: "no run yet" });
    this.live = h("span", { id: "stream-state", class: "live", text: "connecting…" });
    this.meta = h("p", { class: "muted run-meta", text: "Start a run to watch it here." });
    this.notice = h("p", { id: "notice", class: "notice", role: "alert", hidden: true });
    this.buttons = {
      run: h("button", { id: "run-now", class: "primary", type: "button", text: "Run now", onclick: () => this.runNow() }),
      pause: h("button", { id: "pause", type: "button", text: "Pause", onclick: () => this.control("pause") }),
      resume: h("button", { id: "resume", type: "button", text: "Resume", onclick: () => this.control("resume") }),
      cancel: h("button", { id: "cancel", class: "danger", type: "button", text: "Cancel", onclick: () => this.control("cancel") }),
    };
    this.bars = new Map(stages.map((stage) => [stage.number, this.stageRow(stage)]));
    this.processing = h("p", { class: "processing muted" });
    this.log = h("ol", { id: "live-log", class: "log", "aria-live": "off" });
    this.element = h("section", { class: "card run-card", "aria-labelledby": "run-title" },
      h("div", { class: "card-head" },
        h("h2", { id: "run-title" }, "Live run ", this.status),
        this.live),
      this.meta,
      h("div", { class: "controls" }, Object.values(this.buttons)),
      this.notice,
      h("div", { class: "stages" }, [...this.bars.values()].map((row) => row.element)),
      this.processing,
      h("details", { class: "log-box", open: true },
        h("summary", {}, "Live log"),
        this.log));
    this.render();
  }

  stageRow(stage) {
    const fill = h("span", { class: "fill" });
    const count = h("span", { class: "stage-count", text: "—" });
    const bar = h("div", {
      class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0",
      "aria-label": `Stage ${stage.number} progress`, "data-stage": String(stage.number),
    }, fill);
    const element = h("div", { class: "stage waiting", "data-stage": String(stage.number) },
      h("div", { class: "stage-head" },
        h("span", { class: "stage-name" }, h("b", {}, `${stage.number}`), " ", stageLabel(stage.name)),
        count),
      bar);
    return { element, bar, fill, count };
  }

  streamState(state) {
    const text = { open: "live", reconnecting: "reconnecting…", refused: "not available" }[state] ?? state;
    this.live.textContent = text;
    this.live.className = `live ${state}`;
  }

  // A snapshot from the stream. The newest run of the site is the one shown.
  onRun(run) {
    const current = this.run;
    if (current && run.run_id !== current.run_id && Date.parse(run.started_at) < Date.parse(current.started_at)) return;
    if (!current || current.run_id !== run.run_id) this.log.replaceChildren();
    const changed = !current || current.run_id !== run.run_id || current.status !== run.status;
    if (changed && current) this.say(null); // the stream now shows what was asked for
    this.run = run;
    this.render();
    if (changed) this.onRunChanged(run);
  }

  onLine(line) {
    if (!this.run || line.run_id !== this.run.run_id) return;
    const follow = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 24;
    this.log.append(logLine(line.line));
    while (this.log.childElementCount > MAX_LINES) this.log.firstElementChild.remove();
    if (follow) this.log.scrollTop = this.log.scrollHeight;
  }

  render() {
    const run = this.run;
    const status = run ? run.status : null;
    this.status.textContent = status ?? "no run yet";
    this.status.className = `badge ${status ?? "idle"}`;
    this.buttons.run.disabled = Boolean(run && !ENDED.has(status));
    this.buttons.pause.disabled = status !== "running";
    this.buttons.resume.disabled = status !== "paused";
    this.buttons.cancel.disabled = !(status === "running" || status === "paused");
    if (!run) return;
    replace(this.meta, this.describe(run));
    for (const [stage, row] of this.bars) {
      const result = run.stage_results[String(stage)];
      const percent = stagePercent(result);
      row.fill.style.width = `${percent}%`;
      row.bar.setAttribute("aria-valuenow", String(percent));
      row.count.textContent = result
        ? `${number(result.items_processed + result.items_failed)} / ${number(result.items_total)} · ${percent} %`
        : "waiting";
      const state = !result ? "waiting" : result.completed_at ? "done" : result.partial ? "partial" : "active";
      row.element.className = `stage ${state}`;
    }
    const items = run.processing?.items ?? [];
    this.processing.textContent = items.length
      ? `Working on: ${items.slice(0, 4).map((item) => item.title).join(" · ")}${items.length > 4 ? " …" : ""}`
      : "";
  }

  describe(run) {
    const parts = [`Stage ${run.current_stage} of 7`, `${number(run.total_credits_used)} credits used`,
      `started ${when(run.started_at)}`, run.trigger_type];
    const text = parts.join(" · ");
    if (run.status === "paused") return `${text}. ${PAUSE_REASONS[run.pause_reason] ?? "Paused."}`;
    if (run.status === "failed") return `${text}. Failed: ${run.error_message ?? "unknown error"}`;
    return text;
  }

  say(text, kind = "error") {
    this.notice.hidden = !text;
    this.notice.textContent = text ?? "";
    this.notice.className = `notice ${kind}`;
  }

  async runNow() {
    await this.busy(this.buttons.run, async () => {
      await call("POST", "/api/v1/automation/run_now", { params: { site_id: this.site.id } });
      this.say("The run has started.", "info");
    });
  }

  async control(action) {
    await this.busy(this.buttons[action], async () => {
      await call("POST", `/api/v1/automation/${action}`, { params: { run_id: this.run.run_id } });
      const done = { pause: "Pausing: no new AI call starts.", resume: "Resuming.", cancel: "Cancelling." };
      this.say(done[action], "info");
    }, action);
  }

  async busy(button, work, action = null) {
    button.disabled = true;
    button.classList.add("busy");
    this.say(null);
    try {
      await work();
    } catch (error) {
      this.say(sentence(error, action));
    } finally {
      button.classList.remove("busy");
      this.render();
    }
  }
}
