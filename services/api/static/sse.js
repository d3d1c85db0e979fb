// Server-Sent Events over fetch(). EventSource can't send an Authorization header, and a
// token in the URL would end up in logs and history; fetch() can, and streams the body.
// So this is a small reader of the SSE format plus EventSource's reconnect rule: on a
// dropped connection, connect again with the last event id seen as Last-Event-ID, and the
// server sends everything after it.

const LINE_END = /\r\n|\r|\n/;

export function openStream(target, { token, onEvent, onStatus = () => {} }) {
  let lastId = null;
  let retryMs = 2000;
  let controller = null;
  let closed = false;

  async function connect() {
    while (!closed) {
      controller = new AbortController();
      const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
      if (lastId !== null) headers["Last-Event-ID"] = lastId;
      try {
        const answer = await fetch(target, { headers, signal: controller.signal, cache: "no-store" });
        if (answer.status === 401 || answer.status === 404) {
          onStatus("refused", answer.status);
          return; // retrying can't help: the token or the site is not valid
        }
        if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
        onStatus("open");
        await readEvents(answer.body, (event) => {
          if (event.retry !== undefined) retryMs = event.retry;
          if (event.id !== undefined) lastId = event.id;
          if (event.data !== undefined) onEvent(event);
        });
      } catch {
        // dropped or refused connection: fall through to the reconnect below
      }
      if (closed) return;
      onStatus("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  connect();
  return {
    close() {
      closed = true;
      controller?.abort();
    },
  };
}

// Calls onEvent with {id?, type, data?, retry?} for each block of fields ended by a blank line.
export async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let fields = { type: "message", data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let match;
    // A lone "\r" at the end may be the first half of "\r\n": wait for the next chunk.
    while ((match = LINE_END.exec(buffer)) && !(match[0] === "\r" && match.index === buffer.length - 1)) {
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === "") {
        const event = { type: fields.type, id: fields.id, retry: fields.retry };
        if (fields.data.length) event.data = JSON.parse(fields.data.join("\n"));
        onEvent(event);
        fields = { type: "message", data: [] };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (name === "data") fields.data.push(text);
        else if (name === "event") fields.type = text;
        else if (name === "id") fields.id = text;
        else if (name === "retry" && /^\d+$/.test(text)) fields.retry = Number(text);
      }
    }
  }
}
