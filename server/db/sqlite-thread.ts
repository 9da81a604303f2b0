import { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { CastOutcome, CastRow, CastWriter, ExpectedLiveRow, LiveRow, SnapshotWrite } from '../ballots/cast-statements.ts';
import { serverFile } from '../paths.ts';
import { THREAD_LOST } from './dialect.ts';
import { TurnOutbox } from '../shared/turn-outbox.ts';

/**
 * The main thread's side of the database thread (sqlite.worker.ts): a Kysely dialect whose one
 * connection sends each statement to the thread and awaits its answer, and the cast path's writer
 * (CastWriter) over the same connection. `npm start` keeps its SQLite connection there, so the event
 * loop never waits for a COMMIT's fsyncs (bench/README.md, "The database thread").
 *
 * One connection, as before: a mutex (as Kysely's own SQLite driver has) gives it to one transaction
 * or statement at a time, so a write batch's statements, the cast writes among them, reach the thread
 * with nothing in between, and a read outside the batch waits for its commit.
 */

export type ThreadRequest =
  | { id: number; op: 'query'; sql: string; params: readonly unknown[] }
  | { id: number; op: 'freeSlots'; meetingId: number }
  | { id: number; op: 'liveRow'; meetingId: number }
  | { id: number; op: 'meetingState'; meetingId: number }
  | { id: number; op: 'cast'; row: CastRow; slot: number | null }
  /** A batch's BEGIN IMMEDIATE (CastStatements.begin). */
  | { id: number; op: 'begin' }
  /** A batch's snapshots and its COMMIT (CastStatements.commit). */
  | { id: number; op: 'commit'; snapshots: readonly SnapshotWrite[] }
  /** The same, only if the live rows read as expected (CastStatements.commitIf). */
  | { id: number; op: 'commitIf'; expect: readonly ExpectedLiveRow[]; snapshots: readonly SnapshotWrite[] }
  | { id: number; op: 'close' };

type Request = ThreadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export type ThreadReply =
  | { id: number; rows: Record<string, unknown>[] }
  /** After a message's casts: the live row of each meeting they wrote to, read after the message's last request (id 0). */
  | { id: 0; live: { meetingId: number; row: LiveRow | undefined }[] }
  | { id: number; changes: number; lastInsertRowid: bigint }
  | { id: number; value: unknown }
  | { id: number; error: { message: string; code: string | undefined; name: string } };

function threadLost(why: string): Error {
  return Object.assign(new Error(`the database thread stopped: ${why}`), { code: THREAD_LOST });
}

/** From the bundle `npm start` runs, the thread's own bundle beside it; from the sources (tsx, vitest), the TypeScript through tsx. */
function workerEntry(): { url: URL; entry: string | undefined } {
  if (import.meta.url.endsWith('.mjs')) return { url: new URL('./sqlite.worker.mjs', import.meta.url), entry: undefined };
  return { url: serverFile('imports', 'worker-boot.mjs'), entry: serverFile('db', 'sqlite.worker.ts').href };
}

/** Buffers travel as Uint8Array (structured clone): give the rows their Buffers back, as better-sqlite3 returns them. */
function withBuffers(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const key in row) {
      const v = row[key];
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[key] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return rows;
}

export class SqliteThread {
  readonly #file: string;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: unknown) => void }>();
  #next = 1;
  /**
   * Bumped when a thread stops (not when the next one starts, which the next request does: a BEGIN may be
   * that request): a transaction begun on one thread must not go on after it.
   */
  generation = 0;
  /**
   * Counts every statement sent that may change something (anything but a SELECT: a write, the end of a
   * transaction) and every new thread: a value read while it stayed the same is still what is committed.
   */
  writes = 0;
  /**
   * Counts every request sent that may change what the connection sees (everything but reads: the state,
   * the free slots, the live row, a SELECT), casts included. A live row read after a message stays what
   * the connection would read while this stays what it was when that message was posted.
   */
  changes = 0;
  /** The newest live row of each meeting the thread read after a message of casts, and `changes` when that message was posted. */
  readonly #live = new Map<number, { row: LiveRow | undefined; changes: number }>();
  /** `changes` as each message to the current thread was posted, oldest first: each message gets one answer, in order. */
  #postedChanges: number[] = [];
  #closed = false;

  constructor(file: string) {
    this.#file = file;
    this.#start();
  }

  #start(): Worker {
    const { url, entry } = workerEntry();
    const worker = new Worker(url, { workerData: { file: this.#file, entry } });
    this.writes++;
    this.changes++;
    this.#live.clear();
    const postedChanges: number[] = (this.#postedChanges = []);
    worker.unref();
    // The thread answers each message (the requests of one turn) with one message: their replies, in order.
    worker.on('message', (replies: ThreadReply[]) => {
      const changes = postedChanges.shift();
      for (const reply of replies) {
        if ('live' in reply) {
          if (changes !== undefined && this.#worker === worker) for (const { meetingId, row } of reply.live) this.#live.set(meetingId, { row, changes });
          continue;
        }
        const p = this.#pending.get(reply.id);
        if (!p) continue;
        this.#pending.delete(reply.id);
        if ('error' in reply) p.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, code: reply.error.code }));
        else p.resolve(reply);
      }
      if (this.#pending.size === 0 && !this.#closed) worker.unref();
    });
    const lost = (why: string) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      // A new generation at once: a transaction begun on this thread fails from its next statement on,
      // even before the next thread starts (the statement would otherwise start it and run outside any
      // transaction).
      this.generation++;
      this.writes++;
      this.changes++;
      this.#live.clear();
      // Requests not yet posted were for this thread: they fail with the rest.
      this.#outbox.clear();
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(threadLost(why));
    };
    worker.on('error', (e) => lost(e.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    this.#worker = worker;
    return worker;
  }

  /** Send one request; a thread that died is started again for the next one (its open transaction, if any, is lost: see ThreadConnection). */
  request(req: Request): Promise<ThreadReply> {
    if (this.#closed) return Promise.reject(threadLost('closed'));
    return this.#send(this.#worker ?? this.#start(), req);
  }

  /** Requests sent to the thread so far, by kind (tests count the hops a cast costs). */
  readonly sent = { query: 0, begin: 0, cast: 0, commit: 0, commitIf: 0, meetingState: 0, freeSlots: 0, liveRow: 0, close: 0 };
  /** Messages posted to the thread so far: each carries the requests of one turn of the event loop, and each wakes the thread. */
  posted = 0;

  /**
   * Requests are not posted one by one: those of one turn (a write batch's casts, pipelined, all begin in
   * the same turn) travel in one message, and the thread answers them in one message. To the thread of
   * the moment of posting: when the one they were made for was lost meanwhile, they failed with it
   * (#start's `lost` clears the outbox), and what is left was made for this one.
   */
  readonly #outbox = new TurnOutbox<ThreadRequest>(
    (requests) => {
      if (!this.#worker) throw threadLost('no thread to post to');
      this.#worker.postMessage(requests);
      this.#postedChanges.push(this.changes);
      this.posted++;
    },
    // Nothing of the message reached the thread (a parameter that cannot be copied, say): each of its requests fails.
    (requests, error) => {
      for (const r of requests) {
        const p = this.#pending.get(r.id);
        this.#pending.delete(r.id);
        p?.reject(error);
      }
      if (this.#pending.size === 0 && !this.#closed) this.#worker?.unref();
    },
  );

  /** While a request is pending the thread keeps the process alive; idle, it does not. */
  #send(worker: Worker, req: Request): Promise<ThreadReply> {
    this.sent[req.op]++;
    if (!(req.op === 'meetingState' || req.op === 'freeSlots' || req.op === 'liveRow' || (req.op === 'query' && /^\s*select\b/i.test(req.sql)))) this.changes++;
    const id = this.#next++;
    return new Promise<ThreadReply>((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push({ ...req, id } as ThreadRequest);
    });
  }

  /**
   * The meeting's live row as the thread read it after a message of casts, if nothing that may change it
   * has been sent since (the same row a fresh read would give); otherwise null, and the caller reads it.
   */
  keptLiveRow(meetingId: number): { row: LiveRow | undefined } | null {
    const kept = this.#live.get(meetingId);
    return kept && kept.changes === this.changes ? { row: kept.row } : null;
  }

  /** Stop the thread at once, as a crash would (tests): requests in flight fail with THREAD_LOST, the next one starts a new thread. */
  async kill(): Promise<void> {
    await this.#worker?.terminate();
  }

  /**
   * Close the connection on the thread and let the thread end. The thread stays referenced until it has
   * exited: a process that closes its store and then exits with a code of its own must get there.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    worker.ref();
    const exited = new Promise<void>((done) => worker.once('exit', () => done()));
    await this.#send(worker, { op: 'close' }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((done) => (timer = setTimeout(done, 2000)))]);
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** The one connection, on the thread. A transaction whose thread died answers every statement with THREAD_LOST until it ends. */
class ThreadConnection implements DatabaseConnection {
  readonly #thread: SqliteThread;
  /** The thread generation the open transaction began on; null outside a transaction. */
  #txGeneration: number | null = null;

  constructor(thread: SqliteThread) {
    this.#thread = thread;
  }

  async request(req: Request): Promise<ThreadReply> {
    if (this.#txGeneration !== null && this.#txGeneration !== this.#thread.generation) throw threadLost('during a transaction');
    return this.#thread.request(req);
  }

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const text = q.sql.trimStart().slice(0, 10).toLowerCase();
    const r = await this.#exchange(
      { op: 'query', sql: q.sql, params: q.parameters },
      {
        begins: text.startsWith('begin'),
        ends: text.startsWith('commit') || text.startsWith('end') || (text.startsWith('rollback') && !/^\s*rollback\s+to\b/i.test(q.sql)),
        writes: !text.startsWith('select'),
      },
    );
    if ('rows' in r) return { rows: withBuffers(r.rows) as R[] };
    if ('changes' in r) return { numAffectedRows: BigInt(r.changes), insertId: r.lastInsertRowid, rows: [] };
    throw new Error('the database thread answered a query without rows or changes');
  }

  /** The batch's BEGIN IMMEDIATE (CastStatements.begin), sent before this returns. */
  async begin(): Promise<void> {
    await this.#exchange({ op: 'begin' }, { begins: true, ends: false, writes: true });
  }

  /** The batch's snapshots and its COMMIT, one request (CastStatements.commit): whether each snapshot was written. */
  async commit(snapshots: readonly SnapshotWrite[]): Promise<boolean[]> {
    const r = await this.#exchange({ op: 'commit', snapshots }, { begins: false, ends: true, writes: true });
    return 'value' in r ? (r.value as boolean[]) : [];
  }

  /** The same, only if the live rows read as expected (CastStatements.commitIf); not committed, the transaction goes on. */
  async commitIf(expect: readonly ExpectedLiveRow[], snapshots: readonly SnapshotWrite[]): Promise<{ committed: false } | { committed: true; written: boolean[] }> {
    const r = await this.#exchange({ op: 'commitIf', expect, snapshots }, { begins: false, ends: (r) => 'value' in r && (r.value as { committed: boolean }).committed, writes: true });
    return 'value' in r ? (r.value as { committed: false } | { committed: true; written: boolean[] }) : { committed: false };
  }

  /**
   * Send a request that may begin or end the transaction, and keep the transaction's thread and the write
   * count true. `ends` may depend on the answer (commitIf); a request that fails ends nothing then (the
   * batch's ROLLBACK does).
   */
  async #exchange(req: Request, o: { begins: boolean; ends: boolean | ((r: ThreadReply) => boolean); writes: boolean }): Promise<ThreadReply> {
    // The thread the BEGIN is sent to. The transaction is held to it from the BEGIN's sending on, not its
    // answer: a batch sends its ballots before that answer (CastWriter.begin), and a ballot must fail if
    // the thread it goes to is not the one that began. A BEGIN that fails ends it again.
    const generation = this.#thread.generation;
    if (o.writes) this.#thread.writes++;
    const sent = this.request(req);
    if (o.begins) this.#txGeneration = generation;
    let ended = o.ends === true;
    try {
      const r = await sent.catch((e: unknown) => {
        if (o.begins) this.#txGeneration = null;
        throw e;
      });
      if (typeof o.ends === 'function') ended = o.ends(r);
      return r;
    } finally {
      if (ended) {
        this.#txGeneration = null;
        // What the transaction wrote is committed (or gone) now.
        this.#thread.writes++;
      }
    }
  }

  async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(q);
    for (const row of rows) yield { rows: [row] };
  }
}

class Mutex {
  #held: Promise<void> | null = null;
  #release: (() => void) | null = null;

  async lock(): Promise<void> {
    while (this.#held) await this.#held;
    this.#held = new Promise<void>((resolve) => (this.#release = resolve));
  }

  unlock(): void {
    const release = this.#release;
    this.#held = null;
    this.#release = null;
    release?.();
  }
}

class ThreadDriver implements Driver {
  readonly #thread: SqliteThread;
  readonly connection: ThreadConnection;
  readonly #mutex = new Mutex();

  constructor(thread: SqliteThread) {
    this.#thread = thread;
    this.connection = new ThreadConnection(thread);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.connection;
  }

  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    await this.#thread.close();
  }
}

/** Kysely's SQLite dialect with its one connection on the database thread. */
export class ThreadDialect implements Dialect {
  readonly driver: ThreadDriver;

  constructor(thread: SqliteThread) {
    this.driver = new ThreadDriver(thread);
  }

  createDriver(): Driver {
    return this.driver;
  }

  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }

  createAdapter() {
    return new SqliteAdapter();
  }

  createIntrospector(db: Parameters<Dialect['createIntrospector']>[0]) {
    return new SqliteIntrospector(db);
  }
}

/** The cast path's writes as one message each (CastStatements on the thread). */
export function threadCastWriter(thread: SqliteThread, dialect: ThreadDialect): CastWriter {
  const driver = dialect.driver;
  const value = (r: ThreadReply) => ('value' in r ? r.value : null);
  type State = { state: string; ballot_bytes: number } | undefined;
  /**
   * The meeting's state as last read, kept while no statement that may change anything has been sent
   * since the read was sent (SqliteThread.writes): the casts of a hall between two commits share one
   * read instead of one each. Casts change no state; the next commit (theirs included) starts a new read.
   */
  const states = new Map<number, { writes: number; state: Promise<State> }>();
  return {
    // The thread compiles them at its first ballot.
    prepare: () => undefined,
    // Posted in this turn (begin sends before its first await), ahead of the batch's ballots.
    begin: () => driver.connection.begin(),
    // Outside the batch, on the thread's reading connection: what is committed, without waiting for the
    // batch under way to commit (sqlite.worker.ts).
    meetingState: (meetingId) => {
      const kept = states.get(meetingId);
      if (kept && kept.writes === thread.writes) return kept.state;
      const writes = thread.writes;
      const state = thread.request({ op: 'meetingState', meetingId }).then((r) => value(r) as State);
      states.set(meetingId, { writes, state });
      // A failed read is not kept.
      state.catch(() => states.get(meetingId)?.state === state && states.delete(meetingId));
      if (states.size > 64) states.delete(states.keys().next().value!);
      return state;
    },
    // Inside the batch, which holds the connection.
    freeSlots: async (meetingId) => value(await driver.connection.request({ op: 'freeSlots', meetingId })) as number[],
    // Most batches need no request for it: the thread read it after the batch's last casts (sqlite.worker.ts).
    liveRow: async (meetingId) => {
      const kept = thread.keptLiveRow(meetingId);
      if (kept) return kept.row;
      return value(await driver.connection.request({ op: 'liveRow', meetingId })) as LiveRow | undefined;
    },
    // Only the row's own fields travel: a structured clone copies whatever else the object carries.
    write: async (row, slot) => {
      const { meetingId, nullifier, retryCheck, receiptHash, body } = row;
      return value(await driver.connection.request({ op: 'cast', row: { meetingId, nullifier, retryCheck, receiptHash, body }, slot })) as CastOutcome;
    },
    // The batch holds the connection; the COMMIT ends its transaction on this thread's side too.
    commit: (snapshots) => driver.connection.commit(snapshots),
    commitIf: (expect, snapshots) => driver.connection.commitIf(expect, snapshots),
  };
}
