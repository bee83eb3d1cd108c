import { Sender } from '@questdb/nodejs-client';

/**
 * Rows go over ILP on HTTP: one flush is one HTTP request, and QuestDB answers only once the
 * rows are committed to the table's WAL. That answer is what lets a processor commit offsets.
 * Auto-flush is off so that a batch is flushed exactly when the caller decides.
 */
export async function createIlpSender(httpUrl: string): Promise<Sender> {
  const url = new URL(httpUrl);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return Sender.fromConfig(
    `${scheme}::addr=${url.hostname}:${url.port || '9000'};auto_flush=off;request_timeout=30000;retry_timeout=10000;`,
  );
}

export type { Sender } from '@questdb/nodejs-client';
