// The viewer's only door to j1 serve. The token the user types is kept in sessionStorage (gone with
// the tab) and sent as a bearer header on every /v1 call; the page and its code need none.
const KEY = "j1.token";

export const token = {
  get: () => sessionStorage.getItem(KEY) ?? "",
  set: (value) => (value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY)),
};

function headers(extra = {}) {
  const value = token.get();
  return value ? { ...extra, authorization: `Bearer ${value}` } : extra;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function getJson(path, signal) {
  const response = await fetch(path, { headers: headers(), signal });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** A run's JSON lines export, fetched with the token and handed to the browser as a download. */
export async function downloadExport(runId) {
  const response = await fetch(`/v1/runs/${encodeURIComponent(runId)}/export`, { headers: headers() });
  if (!response.ok) throw new ApiError(response.status, (await response.json().catch(() => ({}))).error ?? response.statusText);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: `j1-run-${runId}.jsonl` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * POST /v1/judgments with "stream": true, read as server-sent events from the response body (EventSource
 * can neither POST nor send a header). Calls onEvent(name, data) per event as it arrives.
 */
export async function streamJudgment(body, onEvent, signal) {
  const response = await fetch("/v1/judgments", { method: "POST", headers: headers({ "content-type": "application/json" }), body: JSON.stringify({ ...body, stream: true }), signal });
  if (!response.ok) throw new ApiError(response.status, (await response.json().catch(() => ({}))).error ?? response.statusText);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}
