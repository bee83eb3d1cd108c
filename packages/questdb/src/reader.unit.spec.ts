import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { isRetriable } from '@gridstream/errors';
import { createQuestDbReader } from './reader.ts';

// A port that takes connections and never says a word: what a QuestDB under SIGSTOP looks like
// to a client (the kernel completes the handshake for it).
const sockets: Socket[] = [];
const silent = createServer((socket) => sockets.push(socket));
await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
const { port } = silent.address() as AddressInfo;

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe('the QuestDB reader', () => {
  it('makes a server that never answers the connection an outage, retried with backoff', async () => {
    const reader = createQuestDbReader({
      host: '127.0.0.1',
      port,
      user: 'admin',
      password: 'quest',
    });
    try {
      const error: unknown = await reader.query('SELECT 1').catch((e: unknown) => e);
      expect((error as Error).message).toMatch(
        /^QuestDB: (timeout exceeded when trying to connect|Connection terminated)/,
      );
      expect(isRetriable(error)).toBe(true);
    } finally {
      await reader.close();
    }
  }, 15_000);
});
