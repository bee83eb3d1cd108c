import { Sender } from '@questdb/nodejs-client';
import { describe, expect, it } from 'vitest';

// The patched client's takeBytes hands the sender's finished rows over without a copy and starts
// the sender again on a buffer of its initial size (patches/@questdb__nodejs-client@4.2.0.patch).
// Nothing here connects: an HTTP sender sends only when asked.
const INIT_BYTES = 1024;

async function sender(): Promise<Sender> {
  return Sender.fromConfig(
    `http::addr=127.0.0.1:9;protocol_version=1;init_buf_size=${INIT_BYTES};`,
  );
}

function lines(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, n) => `t,${prefix}=${n} v=${n}i ${n}\n`).join('');
}

/** The patched buffer's size: the point of the patch is that it shrinks back. */
function bufferBytes(s: Sender): number {
  return (s as unknown as { buffer: { bufferSize: number } }).buffer.bufferSize;
}

describe('takeBytes (patched ILP sender)', () => {
  it('hands over exactly the finished rows, which later rows do not overwrite', async () => {
    const s = await sender();
    const first = lines('a', 500);
    s.appendLines(first, 500);
    expect(bufferBytes(s)).toBeGreaterThan(INIT_BYTES);
    const taken = s.takeBytes();
    expect(taken?.toString('latin1')).toBe(first);
    // The sender writes on elsewhere: what was handed over stays as it was.
    const second = lines('b', 500);
    s.appendLines(second, 500);
    expect(taken?.toString('latin1')).toBe(first);
    expect(s.takeBytes()?.toString('latin1')).toBe(second);
    expect(s.takeBytes()).toBeNull();
    await s.close();
  });

  it('leaves the sender with a buffer of its initial size, not of its largest batch', async () => {
    const s = await sender();
    s.appendLines(lines('a', 2000), 2000);
    expect(bufferBytes(s)).toBeGreaterThanOrEqual(32 * INIT_BYTES);
    s.takeBytes();
    expect(bufferBytes(s)).toBe(INIT_BYTES);
    await s.close();
  });

  it('keeps an unfinished row for the next take', async () => {
    const s = await sender();
    s.appendLines(lines('a', 100), 100);
    s.table('t').symbol('k', 'open');
    const taken = s.takeBytes();
    expect(taken?.toString('latin1')).toBe(lines('a', 100));
    s.intColumn('v', 7);
    await s.at(5n, 'ns');
    expect(s.takeBytes()?.toString('latin1')).toBe('t,k=open v=7i 5\n');
    await s.close();
  });
});
