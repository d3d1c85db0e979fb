// The API, as the dashboard calls it: bearer token from sessionStorage, the contract's error
// body turned into an ApiError, and refusals turned into sentences a person can act on.

const TOKEN_KEY = "automation.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    Object.assign(this, { status, code, details });
  }
}

export function url(path, params = {}) {
  const target = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  return target;
}

export async function call(method, path, { params, body } = {}) {
  const headers = { Authorization: `Bearer ${token.get()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let answer;
  try {
    answer = await fetch(url(path, params), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "The service cannot be reached.");
  }
  const text = await answer.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: handled below */ }
  if (!answer.ok) {
    const error = data?.error ?? {};
    throw new ApiError(answer.status, error.code ?? "http_error", error.message ?? answer.statusText, error.details);
  }
  return data;
}

export const get = (path, params) => call("GET", path, { params });

// Images need the bearer token too, so <img src> can't fetch them: fetched here, shown as blob: URLs.
export async function imageUrl(path) {
  const answer = await fetch(url(path), { headers: { Authorization: `Bearer ${token.get()}` } });
  if (!answer.ok) return null;
  return URL.createObjectURL(await answer.blob());
}

const credits = (n) => `${Number(n).toLocaleString("en-US")} credit${n === 1 ? "" : "s"}`;

export function sentence(error, action = null) {
  const details = error.details ?? {};
  switch (error.code) {
    case "run_active":
      return "This site already has a run in progress. Pause, resume or cancel it before starting another one.";
    case "insufficient_credits":
      if (action === "resume" && details.required !== undefined) {
        return `Resuming needs ${credits(details.required)}, the most the run's next batch can cost, but the `
          + `account has ${credits(details.available)} available. Add credits, then resume.`;
      }
      if (details.required !== undefined) {
        return `This run needs ${credits(details.required)} (1.2 × the estimate), but the account has `
          + `${credits(details.available)} available. Add credits or import fewer keywords, then try again.`;
      }
      return "The account does not have enough credits for the next batch. Add credits, then try again.";
    case "invalid_transition":
      return `That can't be done now: the run is ${details.status ?? "in another state"}.`;
    case "pipeline_unavailable":
      return "The pipeline did not answer in time, so nothing was started. Please try again in a moment.";
    case "unauthorized":
      return "This token was not accepted. Check it and sign in again.";
    case "forbidden":
      return "Only an owner of the account can change the configuration.";
    case "not_found":
      return "This site or run does not exist, or belongs to another account.";
    case "rate_limited":
      return "Too many requests for this account just now. Wait a moment and try again.";
    case "invalid_request":
      return "Some values are not valid. See the fields marked below.";
    case "network":
      return "The service cannot be reached. Check the connection and try again.";
    default:
      return `Something went wrong (${error.code}). Please try again.`;
  }
}
