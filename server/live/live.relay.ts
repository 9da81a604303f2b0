import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { pgDriver, type DbOrTrx, type PostgresStore } from '../db/database.ts';
import type { LiveHub, LiveRelay } from './live.hub.ts';
import type { LiveMessage } from './live.schemas.ts';

/** NOTIFY payloads must stay under 8000 bytes; a larger message is sent as a reference to read back. */
const MAX_PAYLOAD = 7500;
const RECONNECT_MS = 1000;

export interface LiveRef {
  type: LiveMessage['type'];
  meetingId: number;
}

interface Envelope {
  /** The sending process, which has delivered the message to its own subscribers already. */
  from: string;
  message?: LiveMessage;
  ref?: LiveRef;
}

export interface PgLiveRelayOptions {
  /** The message(s) as they are now, for a reference (a message too large to travel) or after a reconnect. */
  reread(ref: LiveRef): Promise<LiveMessage[]>;
  /** Every message from another process, after it is delivered here (the services forget closed meetings' keys). */
  onRemote?(message: LiveMessage): void;
  log: FastifyBaseLogger;
}

/**
 * The live tally, turnout and timers of every server process on one PostgreSQL database, through
 * LISTEN/NOTIFY and nothing else. A batch announces its messages inside its own transaction, so the
 * others hear of a step only if it committed, and in commit order; each process then delivers them to
 * its own websockets. The channel is named after the schema, so two installations in one database
 * (or the tests' schemas) do not hear each other. After a lost connection the relay reconnects and
 * reads the state of every meeting it has subscribers for again, so nothing missed meanwhile stays missed.
 */
export class PgLiveRelay implements LiveRelay {
  readonly #store: PostgresStore;
  readonly #hub: LiveHub;
  readonly #o: PgLiveRelayOptions;
  readonly #id = randomBytes(8).toString('hex');
  #channel = '';
  #client: pg.Client | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  /** Sends after a commit go out one after another, in the order they were made. */
  #sending: Promise<void> = Promise.resolve();

  constructor(store: PostgresStore, hub: LiveHub, o: PgLiveRelayOptions) {
    this.#store = store;
    this.#hub = hub;
    this.#o = o;
  }

  /** Connect and LISTEN; resolves once the relay hears the other processes. */
  async start(): Promise<void> {
    const r = await sql<{ schema: string }>`select current_schema() as schema`.execute(this.#store.db);
    this.#channel = `ceping_live:${r.rows[0]!.schema}`;
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new (pgDriver().Client)({ connectionString: this.#store.url });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (n) => {
      if (n.channel === this.#channel && n.payload) this.#received(n.payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${client.escapeIdentifier(this.#channel)}`);
    } catch (err) {
      // PostgreSQL still away (the retry comes from the caller): close what may have opened.
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    if (this.#closed) return;
    this.#o.log.warn('live relay: lost the LISTEN connection; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect()
        .then(() => this.#catchUp())
        .catch(() => this.#scheduleReconnect());
    }, RECONNECT_MS);
    this.#retry.unref();
  }

  /** After a reconnect: what every watched meeting shows now. */
  async #catchUp(): Promise<void> {
    for (const meetingId of this.#hub.watchedMeetings()) {
      for (const type of ['turnout', 'timers'] as const) await this.#deliverRead({ type, meetingId });
    }
  }

  #envelope(message: LiveMessage): string {
    const whole = JSON.stringify({ from: this.#id, message } satisfies Envelope);
    if (Buffer.byteLength(whole) <= MAX_PAYLOAD) return whole;
    return JSON.stringify({ from: this.#id, ref: { type: message.type, meetingId: message.meetingId } } satisfies Envelope);
  }

  async announce(trx: DbOrTrx, message: LiveMessage): Promise<void> {
    await sql`select pg_notify(${this.#channel}, ${this.#envelope(message)})`.execute(trx);
  }

  send(message: LiveMessage): void {
    const payload = this.#envelope(message);
    this.#sending = this.#sending
      .then(() => sql`select pg_notify(${this.#channel}, ${payload})`.execute(this.#store.db))
      .then(
        () => undefined,
        (err: unknown) => this.#o.log.warn({ err: { message: (err as Error).message } }, 'live relay: could not notify the other processes'),
      );
  }

  #received(payload: string): void {
    let e: Envelope;
    try {
      e = JSON.parse(payload) as Envelope;
    } catch {
      return;
    }
    if (e.from === this.#id) return;
    if (e.message) this.#deliver(e.message);
    else if (e.ref) void this.#deliverRead(e.ref);
  }

  async #deliverRead(ref: LiveRef): Promise<void> {
    try {
      for (const m of await this.#o.reread(ref)) this.#deliver(m);
    } catch (err) {
      this.#o.log.warn({ err: { message: (err as Error).message } }, 'live relay: could not read a meeting again');
    }
  }

  #deliver(message: LiveMessage): void {
    this.#hub.deliver(message);
    this.#o.onRemote?.(message);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#sending;
    const c = this.#client;
    this.#client = null;
    await c?.end().catch(() => undefined);
  }
}
