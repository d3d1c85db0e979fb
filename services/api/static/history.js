// The site's past runs; one chosen run's stage results, log, and the articles and images it
// produced (the articles its review gate passed, named by its ContentReadyForReview events).

import { get, imageUrl, sentence } from "./api.js";
import { h, logLine, number, replace, stageLabel, when } from "./dom.js";

const PAGE = 500;

async function runEvents(runId) {
  const events = [];
  for (;;) {
    const params = events.length ? { after_sequence: events.at(-1).sequence } : {};
    const page = await get(`/api/v1/automation/runs/${encodeURIComponent(runId)}/events`, params);
    events.push(...page.events);
    if (!page.has_more || !page.events.length) return events;
  }
}

async function listing(siteId, kind, keep) {
  const found = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await get(`/api/v1/sites/${encodeURIComponent(siteId)}/${kind}`, { limit: PAGE, offset });
    found.push(...page.items.filter(keep));
    if (offset + PAGE >= page.total) return found;
  }
}

// GET /content/{id} (CONTRACT §7) answers with the article and its images; where the API
// predates it (a 404 for the path itself), the listings are searched instead.
async function contentWithImages(siteId, contentId) {
  const site = encodeURIComponent(siteId);
  try {
    const content = await get(`/api/v1/sites/${site}/content/${encodeURIComponent(contentId)}`);
    if (Array.isArray(content.images)) return content;
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  const [content] = await listing(siteId, "content", (c) => c.id === contentId);
  if (!content) return null;
  return { ...content, images: await listing(siteId, "images", (i) => i.content_id === contentId) };
}

// Headings, lists and paragraphs of the generated markdown, as DOM nodes (text only).
function article(body) {
  const nodes = [];
  let list = null;
  for (const block of body.split(/\n{2,}/)) {
    for (const line of block.split("\n")) {
      const heading = /^(#{1,4})\s+(.*)$/.exec(line);
      const item = /^\s*[-*]\s+(.*)$/.exec(line);
      if (item) {
        if (!list) nodes.push((list = h("ul")));
        list.append(h("li", { text: item[1] }));
        continue;
      }
      list = null;
      if (heading) nodes.push(h(`h${Math.min(6, heading[1].length + 2)}`, { text: heading[2] }));
      else if (line.trim()) nodes.push(h("p", { text: line.replace(/\*\*/g, "") }));
    }
  }
  return nodes;
}

export class HistoryCard {
  constructor(site) {
    this.site = site;
    this.rows = h("tbody");
    this.total = h("span", { class: "muted small" });
    this.detail = h("div", { id: "run-detail" });
    this.element = h("section", { class: "card", "aria-labelledby": "history-title" },
      h("div", { class: "card-head" }, h("h2", { id: "history-title" }, "History ", this.total),
        h("button", { class: "ghost small", type: "button", text: "Refresh", onclick: () => this.load() })),
      h("div", { class: "table-wrap" },
        h("table", { id: "history" },
          h("thead", {}, h("tr", {}, ["Started", "Trigger", "Status", "Stage", "Credits"].map((title, i) =>
            h("th", { class: i >= 3 ? "num" : "", text: title })))),
          this.rows)),
      this.detail);
  }

  async load() {
    try {
      const history = await get("/api/v1/automation/history", { site_id: this.site.id, limit: 20 });
      this.total.textContent = history.total ? `(${history.total})` : "";
      replace(this.rows, history.runs.length ? history.runs.map((run) => this.row(run))
        : h("tr", {}, h("td", { colspan: "5", class: "muted", text: "No runs yet." })));
      this.highlight();
    } catch (error) {
      replace(this.rows, h("tr", {}, h("td", { colspan: "5", class: "notice error", text: sentence(error) })));
    }
  }

  highlight() {
    for (const row of this.rows.children) row.classList.toggle("selected", row.dataset.run === this.selected);
  }

  row(run) {
    const open = h("button", { class: "link", type: "button", text: when(run.started_at), onclick: () => this.show(run) });
    return h("tr", { "data-run": run.run_id },
      h("td", {}, open), h("td", { text: run.trigger_type }),
      h("td", {}, h("span", { class: `badge ${run.status}`, text: run.status })),
      h("td", { class: "num", text: String(run.current_stage) }),
      h("td", { class: "num", text: number(run.total_credits_used) }));
  }

  async show({ run_id: runId }) {
    this.selected = runId;
    this.highlight();
    replace(this.detail, h("p", { class: "muted", text: "Loading the run…" }));
    try {
      const [run, logs, events] = await Promise.all([
        get(`/api/v1/automation/runs/${encodeURIComponent(runId)}`),
        get("/api/v1/automation/logs", { run_id: runId, lines: 500 }), runEvents(runId)]);
      const ready = events.filter((e) => e.type === "ContentReadyForReview").map((e) => e.data);
      replace(this.detail,
        h("h3", { text: `Run of ${when(run.started_at)}` }),
        this.stageTable(run),
        h("details", { class: "log-box" }, h("summary", {}, `Log (${logs.lines.length} lines)`),
          h("ol", { class: "log", id: "run-log" }, logs.lines.map(logLine))),
        h("h3", { text: `Articles (${ready.length})` }),
        ready.length ? this.articles(ready)
          : h("p", { class: "muted", text: "This run did not bring any article to review." }));
    } catch (error) {
      replace(this.detail, h("p", { class: "notice error", text: sentence(error) }));
    }
  }

  stageTable(run) {
    const rows = Object.values(run.stage_results).sort((a, b) => a.stage - b.stage).map((r) => h("tr", {},
      h("td", {}, h("b", {}, `${r.stage} `), stageLabel(r.name), r.partial ? h("span", { class: "badge paused", text: "partial" }) : null),
      h("td", { class: "num", text: `${number(r.items_processed)} / ${number(r.items_total)}` }),
      h("td", { class: "num", text: number(r.items_failed) }),
      h("td", { class: "num", text: number(r.outputs_created) }),
      h("td", { class: "num", text: number(r.credits_used) })));
    return h("div", { class: "table-wrap" }, h("table", { class: "stage-results" },
      h("thead", {}, h("tr", {}, ["Stage", "Processed", "Failed", "Created", "Credits"].map((title, i) =>
        h("th", { class: i ? "num" : "", text: title })))),
      h("tbody", {}, rows)));
  }

  articles(ready) {
    const list = h("div", { class: "articles" });
    for (const item of ready) {
      const box = h("details", { class: "article", "data-content": item.content_id },
        h("summary", {}, item.title));
      box.addEventListener("toggle", () => box.open && !box.dataset.loaded && this.fill(box, item.content_id), { once: false });
      list.append(box);
    }
    return list;
  }

  async fill(box, contentId) {
    box.dataset.loaded = "1";
    const holder = h("div", { class: "article-body" }, h("p", { class: "muted", text: "Loading…" }));
    box.append(holder);
    try {
      const content = await contentWithImages(this.site.id, contentId);
      if (!content) throw Object.assign(new Error("gone"), { code: "not_found" });
      const images = [...content.images].sort((a, b) => (a.kind === "featured" ? 0 : 1) - (b.kind === "featured" ? 0 : 1));
      const gallery = h("div", { class: "gallery" });
      replace(holder,
        h("p", { class: "muted small", text: `${number(content.word_count)} words · ${content.status}` }),
        gallery, article(content.body));
      gallery.append(...await Promise.all(images.map((image) => this.figure(image))));
    } catch (error) {
      replace(holder, h("p", { class: "notice error", text: sentence(error) }));
    }
  }

  async figure(image) {
    const src = image.status === "generated"
      ? await imageUrl(`/api/v1/sites/${encodeURIComponent(this.site.id)}/images/${encodeURIComponent(image.id)}/file`)
      : null;
    return h("figure", { class: "image" },
      src ? h("img", { src, alt: image.prompt, loading: "lazy" })
        : h("div", { class: "no-image", text: image.status === "failed" ? "failed" : "no file" }),
      h("figcaption", { text: `${image.kind.replace("_", " ")}: ${image.prompt}` }));
  }
}
