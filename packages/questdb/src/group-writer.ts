import { isPoison } from '@gridstream/errors';
import { Attr, SpanName, traceWrite } from '@gridstream/telemetry';
import { createIlpSender, ilpFlushError } from './writer.ts';
import type { QuestDbHttp, Sender } from './writer.ts';

const FLUSH_SPAN_ATTRIBUTES = {
  [Attr.dbSystemName]: 'questdb',
  [Attr.dbOperationName]: SpanName.questDbFlush,
};

/** A request is not made larger than this by joining; one part alone may be larger. */
export const DEFAULT_GROUP_REQUEST_BYTES = 16 * 1024 * 1024;

/** Bytes waiting from which a second request goes out beside one already out. */
export const DEFAULT_PARALLEL_FROM_BYTES = 1024 * 1024;

export interface GroupWriterOptions {
  /** Requests out at once, at most. */
  readonly maxInFlight?: number;
  /**
   * With a request out, another goes out beside it only once this many bytes wait; below it,
   * the next request gathers every flush made while one is out.
   */
  readonly parallelFromBytes?: number;
  readonly maxRequestBytes?: number;
}

/**
 * Group commit for ILP over HTTP. Each concurrent batch encodes its rows in a sender of its own;
 * `flush(sender)` takes them out and sends them together with the rows of every other batch
 * flushed while the previous request was out, in one request. QuestDB commits once per table per
 * request, so six batches flushed together cost one commit where they cost six, and small batches
 * (less memory) cost no more commits than large ones.
 *
 * A batch's flush resolves once QuestDB has committed its rows, as a flush of its own would. When
 * QuestDB refuses a joint request as bad data (400), each batch's rows are sent again alone, so
 * only the batch with the bad row fails and the consumer isolates it in that batch; the others'
 * rows are upserts, sending them twice changes nothing. An outage fails every batch of the
 * request, each retried by its consumer.
 */
export class IlpGroupWriter {
  private readonly waiting: Part[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly parallelFromBytes: number;
  private waitingBytes = 0;
  private readonly maxRequestBytes: number;
  /** Requests sent and parts they carried, for benchmarks and tests. */
  readonly stats = { requests: 0, parts: 0, resentAlone: 0 };

  private readonly send: (data: Buffer) => Promise<void>;

  constructor(send: (data: Buffer) => Promise<void>, options: GroupWriterOptions = {}) {
    this.send = send;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.parallelFromBytes = options.parallelFromBytes ?? DEFAULT_PARALLEL_FROM_BYTES;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_GROUP_REQUEST_BYTES;
  }

  /** Sends the finished rows in `sender`'s buffer with those of other batches waiting. */
  flush(sender: Sender): Promise<void> {
    const data = sender.takeBytes();
    if (data === null) return Promise.resolve();
    return traceWrite(SpanName.questDbFlush, FLUSH_SPAN_ATTRIBUTES, () => this.enqueue(data));
  }

  /** Sends `data` (whole ILP lines) with the rows of other batches waiting. */
  enqueue(data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ data, resolve, reject });
      this.waitingBytes += data.length;
      this.pump();
    });
  }

  private pump(): void {
    while (
      this.waiting.length > 0 &&
      (this.inFlight === 0 ||
        (this.inFlight < this.maxInFlight && this.waitingBytes >= this.parallelFromBytes))
    ) {
      const parts = this.takeRequest();
      this.inFlight += 1;
      void this.sendRequest(parts).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private takeRequest(): Part[] {
    let bytes = 0;
    let count = 0;
    for (const part of this.waiting) {
      if (count > 0 && bytes + part.data.length > this.maxRequestBytes) break;
      bytes += part.data.length;
      count += 1;
    }
    this.waitingBytes -= bytes;
    return this.waiting.splice(0, count);
  }

  private async sendRequest(parts: readonly Part[]): Promise<void> {
    this.stats.requests += 1;
    this.stats.parts += parts.length;
    const [only] = parts;
    if (parts.length === 1 && only !== undefined) {
      await settle(only, this.sendOnce(only.data));
      return;
    }
    try {
      await this.sendOnce(Buffer.concat(parts.map((part) => part.data)));
      for (const part of parts) part.resolve();
    } catch (error) {
      if (!isPoison(error)) {
        for (const part of parts) part.reject(error);
        return;
      }
      for (const part of parts) {
        this.stats.resentAlone += 1;
        await settle(part, this.sendOnce(part.data));
      }
    }
  }

  private async sendOnce(data: Buffer): Promise<void> {
    try {
      await this.send(data);
    } catch (error) {
      throw ilpFlushError(error);
    }
  }
}

interface Part {
  readonly data: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

async function settle(part: Part, sent: Promise<void>): Promise<void> {
  try {
    await sent;
    part.resolve();
  } catch (error) {
    part.reject(error);
  }
}

/** A group writer over a sender of its own (its transport only: the rows come from others). */
export async function createIlpGroupWriter(
  http: QuestDbHttp,
  options: GroupWriterOptions = {},
): Promise<{ readonly writer: IlpGroupWriter; close(): Promise<void> }> {
  const transport = await createIlpSender(http);
  return {
    writer: new IlpGroupWriter((data) => transport.sendBytes(data), options),
    close: () => transport.close(),
  };
}
