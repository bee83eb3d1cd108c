/**
 * A progress line on stderr: redrawn in place on a terminal, and on anything else (CI logs,
 * pipes) written as a line at most every `intervalMs`, plus the final state.
 */
export interface ProgressLine {
  update(text: string): void;
  /** A line that stays (a message between progress updates, or the final state). */
  log(text: string): void;
}

export function progressLine(
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 5_000,
): ProgressLine {
  let lastMs = 0;
  return {
    update(text) {
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${text}`);
      } else if (Date.now() - lastMs >= intervalMs) {
        lastMs = Date.now();
        stream.write(`${text}\n`);
      }
    },
    log(text) {
      stream.write(`${stream.isTTY ? '\r\x1b[2K' : ''}${text}\n`);
    },
  };
}
