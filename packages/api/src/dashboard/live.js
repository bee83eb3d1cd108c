// @ts-check
// The live stream (GET /v1/stream, server-sent events) read with fetch, not EventSource:
// EventSource cannot send the Authorization header, and the key must not go into a URL.

/** How long to wait before reconnecting after the stream broke (the server's `retry:`). */
const RECONNECT_MS = 2_000;

/**
 * @typedef {{ id: string, event: string, data: string }} StreamMessage
 * @typedef {{ path: string, key: string,
 *   onMessage: (message: StreamMessage) => void,
 *   onConnected: (connected: boolean) => void }} StreamOptions
 */

/**
 * Splits a text/event-stream into messages; returns the unfinished rest of `text`.
 * @param {string} text
 * @param {(message: StreamMessage) => void} onMessage
 */
export function parseEventStream(text, onMessage) {
  const blocks = text.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    /** @type {StreamMessage} */
    const message = { id: '', event: 'message', data: '' };
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') message.id = value;
      else if (field === 'event') message.event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) continue;
    message.data = data.join('\n');
    onMessage(message);
  }
  return rest;
}

/**
 * Reads the stream until `stop()`, reconnecting with Last-Event-ID after a break, so the server
 * sends what was missed (or a `reset` event when it no longer can).
 * @param {StreamOptions} options
 * @returns {{ stop: () => void }}
 */
export function openStream(options) {
  const abort = new AbortController();
  let lastEventId = '';
  const connect = async () => {
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${options.key}`, accept: 'text/event-stream' };
    if (lastEventId !== '') headers['last-event-id'] = lastEventId;
    const response = await fetch(options.path, { headers, signal: abort.signal });
    if (!response.ok || response.body === null) throw new Error(`stream: ${response.status}`);
    options.onConnected(true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffered = parseEventStream(buffered + value, (message) => {
        if (message.id !== '') lastEventId = message.id;
        options.onMessage(message);
      });
    }
  };
  const run = () => {
    connect()
      .catch(() => undefined)
      .finally(() => {
        options.onConnected(false);
        if (!abort.signal.aborted) setTimeout(run, RECONNECT_MS);
      });
  };
  run();
  return {
    stop: () => {
      abort.abort();
    },
  };
}
