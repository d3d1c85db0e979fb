// What a run would do and cost now: the pipeline overview and the credit estimate.

import { get, sentence } from "./api.js";
import { h, number, replace, stageLabel } from "./dom.js";

export class PlanCard {
  constructor(site) {
    this.site = site;
    this.summary = h("div", { class: "estimate" });
    this.table = h("tbody");
    this.element = h("section", { class: "card", "aria-labelledby": "plan-title" },
      h("div", { class: "card-head" },
        h("h2", { id: "plan-title" }, "Pipeline and estimate"),
        h("button", { class: "ghost small", type: "button", text: "Refresh", onclick: () => this.load() })),
      this.summary,
      h("div", { class: "table-wrap" },
        h("table", { id: "overview" },
          h("thead", {}, h("tr", {}, h("th", { text: "Stage" }), h("th", { class: "num", text: "Pending" }),
            h("th", { class: "num", text: "Est. credits" }))),
          this.table)));
  }

  async load() {
    const params = { site_id: this.site.id };
    try {
      const [overview, estimate] = await Promise.all([
        get("/api/v1/automation/pipeline_overview", params),
        get("/api/v1/automation/estimate", params),
      ]);
      this.show(overview, estimate);
      return overview.stages;
    } catch (error) {
      replace(this.summary, h("p", { class: "notice error", text: sentence(error) }));
      return null;
    }
  }

  show(overview, estimate) {
    replace(this.table, overview.stages.map((stage) => h("tr", {},
      h("td", {}, h("b", {}, `${stage.number} `), stageLabel(stage.name)),
      h("td", { class: "num", text: number(stage.pending) }),
      h("td", { class: "num", text: number(estimate.per_stage[String(stage.number)] ?? 0) }))));
    const figure = (label, value, id) => h("div", { class: "figure" },
      h("span", { class: "figure-value", id, text: number(value) }), h("span", { class: "figure-label", text: label }));
    replace(this.summary,
      h("div", { class: "figures" },
        figure("estimated credits", estimate.estimated_credits, "estimated-credits"),
        figure("needed to start (×1.2)", estimate.required_credits),
        figure("available", estimate.available_credits)),
      estimate.sufficient
        ? h("p", { class: "muted", text: "The account's credits cover a run now." })
        : h("p", { class: "notice warn", text: `A run now needs ${number(estimate.required_credits)} credits, `
            + `but only ${number(estimate.available_credits)} are available. Add credits before starting it.` }));
  }
}
