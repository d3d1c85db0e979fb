// The dashboard: sign in with an account token, pick a site, then watch and steer its runs.

import { get, sentence, token, url } from "./api.js";
import { ConfigForm } from "./config.js";
import { $, h, replace } from "./dom.js";
import { HistoryCard } from "./history.js";
import { PlanCard } from "./plan.js";
import { RunPanel } from "./run.js";
import { openStream } from "./sse.js";

// The contract's seven stages: bars are drawn even before the overview has answered.
const STAGES = ["keywords_to_clusters", "clusters_to_ideas", "ideas_to_tasks", "tasks_to_content",
  "content_to_image_prompts", "image_prompts_to_images", "review_gate"].map((name, i) => ({ number: i + 1, name }));

let sites = [];
let view = null;

function showSignIn(message = "") {
  view?.close();
  view = null;
  $("#site-view").hidden = true;
  $("#sign-out").hidden = true;
  replace($("#sites"));
  $("#sign-in-view").hidden = false;
  $("#sign-in-error").textContent = message;
  $("#token").value = "";
  $("#token").focus();
}

async function signIn(event) {
  event.preventDefault();
  const value = $("#token").value.trim();
  if (!value) {
    $("#sign-in-error").textContent = "Enter an account token.";
    return;
  }
  token.set(value);
  await enter();
}

function signOut(message) {
  token.clear();
  showSignIn(typeof message === "string" ? message : "");
}

async function enter() {
  try {
    ({ sites } = await get("/api/v1/sites"));
  } catch (error) {
    if (error.status === 401) token.clear();
    showSignIn(sentence(error));
    return;
  }
  $("#sign-in-view").hidden = true;
  $("#sign-out").hidden = false;
  replace($("#sites"), sites.map((site) => h("a", { class: "site-tab", href: `#site=${encodeURIComponent(site.id)}`,
    "data-site": site.id }, site.name, h("small", { text: site.domain }))));
  openSite(chosenSite());
}

function chosenSite() {
  const wanted = decodeURIComponent(/site=([^&]+)/.exec(window.location.hash)?.[1] ?? "");
  return sites.find((site) => site.id === wanted) ?? sites[0] ?? null;
}

async function openSite(site) {
  view?.close();
  const holder = $("#site-view");
  holder.hidden = false;
  for (const tab of document.querySelectorAll(".site-tab")) {
    tab.classList.toggle("current", tab.dataset.site === site?.id);
    if (tab.dataset.site === site?.id) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  if (!site) {
    replace(holder, h("div", { class: "card narrow" }, h("h1", { text: "No sites yet" }),
      h("p", { class: "muted", text: "This account has no sites. An administrator adds them." })));
    return;
  }
  view = siteView(site);
  replace(holder, view.element);
  await view.load();
}

function siteView(site) {
  const plan = new PlanCard(site);
  const config = new ConfigForm(site);
  const history = new HistoryCard(site);
  let refresh = null;
  // A run that starts, pauses or ends changes what is pending, the credits and the history.
  const runChanged = () => {
    clearTimeout(refresh);
    refresh = setTimeout(() => Promise.all([plan.load(), history.load(), config.refreshSchedule()]), 300);
  };
  const run = new RunPanel(site, STAGES, { onRunChanged: runChanged });
  config.element.addEventListener("saved", () => plan.load());
  let stream = null;
  return {
    element: h("div", { class: "site" },
      h("div", { class: "site-head" }, h("h1", { id: "site-name", text: site.name }),
        h("span", { class: "muted", text: site.domain })),
      h("div", { class: "grid" },
        h("div", { class: "col-main" }, run.element, history.element),
        h("div", { class: "col-side" }, plan.element, config.element))),
    async load() {
      stream = openStream(url("/api/v1/automation/stream", { site_id: site.id }), {
        token: token.get,
        onEvent: (event) => (event.type === "run" ? run.onRun(event.data) : event.type === "log" && run.onLine(event.data)),
        onStatus: (state, status) => (status === 401 ? signOut(sentence({ code: "unauthorized" })) : run.streamState(state)),
      });
      await Promise.all([plan.load(), config.load(), history.load()]);
    },
    close() {
      clearTimeout(refresh);
      stream?.close();
    },
  };
}

$("#sign-in-form").addEventListener("submit", signIn);
$("#sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", () => sites.length && openSite(chosenSite()));
if (token.get()) enter();
else showSignIn();
