import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

// The driver's own connection class, as its pool and its server monitor use it: patches/
// mongodb@6.22.0.patch makes a command whose write waits for 'drain' fail when the socket closes.
const require = createRequire(import.meta.url);
interface DriverConnection {
  command(ns: unknown, command: object, options: object): Promise<unknown>;
  destroy(): void;
}
const { Connection } = require('mongodb/lib/cmap/connection.js') as {
  Connection: new (stream: Duplex, options: object) => DriverConnection;
};
const { ns } = require('mongodb/lib/utils.js') as { ns: (namespace: string) => unknown };

/** A socket whose peer reads nothing: every write past the buffer's mark waits for 'drain'. */
class StalledSocket extends Duplex {
  override _read(): void {}
  override _write(): void {
    // never acknowledged
  }
  setTimeout(): this {
    return this;
  }
}

function connectionOver(socket: StalledSocket): DriverConnection {
  return new Connection(socket, { id: 1, generation: 0, hostAddress: '127.0.0.1:1' });
}

/** What the command came to within 5 s: its error's message, or that it still waits. */
async function outcome(command: Promise<unknown>): Promise<string> {
  return Promise.race([
    command.then(
      () => 'answered',
      (error: unknown) => (error as Error).message,
    ),
    delay(5_000).then(() => 'still waiting'),
  ]);
}

// More than a socket's 16 KiB mark, so the driver waits for 'drain'.
const LARGE = { ping: 1, pad: 'x'.repeat(64 * 1024) };

describe('the MongoDB driver (patched) when a socket closes under a write', () => {
  it('fails a command waiting for drain when its connection is closed, instead of waiting for ever', async () => {
    // given a command whose write waits for the peer
    const connection = connectionOver(new StalledSocket());
    const command = connection.command(ns('admin.$cmd'), LARGE, {});
    await delay(50);
    // when the connection is closed meanwhile (a socket timeout, the server gone)
    connection.destroy();
    // then the command fails with the connection's error
    expect(await outcome(command)).toMatch(/^connection 1 to .+ closed$/);
  });

  it('fails a command written to a socket that closed just before, without an error', async () => {
    // given a socket closed by its peer, the connection not yet told
    const socket = new StalledSocket();
    const connection = connectionOver(socket);
    socket.destroy();
    // when a command is written to it
    const command = connection.command(ns('admin.$cmd'), LARGE, {});
    // then it fails rather than waiting for a 'drain' that cannot come
    expect(await outcome(command)).toMatch(/closed/);
  });
});
