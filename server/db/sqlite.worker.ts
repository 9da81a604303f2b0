/**
 * The database thread: the one SQLite connection of a server process started by `npm start`
 * (sqlite-thread.ts is the main thread's side). Every statement runs here, so a COMMIT's fsyncs
 * (synchronous=FULL, a rollback journal: the journal, then the file) are waited for on this thread
 * while the event loop goes on accepting connections, parsing bodies and checking tokens.
 *
 * Requests are answered in the order they come (a message holds the requests of one turn of the main
 * thread's event loop); the main thread sends a transaction's statements one after another on one port,
 * and holds a mutex so that no other statement comes in between.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteConnection } from './sqlite-open.ts';
import { StatementCache } from './statement-cache.ts';
import { CastStatements, type CastRow } from '../ballots/cast-statements.ts';
import type { ThreadReply, ThreadRequest } from './sqlite-thread.ts';

const file = (workerData as { file: string }).file;
const sqlite = openSqliteConnection(file);
const statements = new StatementCache(sqlite);
let cast: CastStatements | null = null;
/** Prepared at the first ballot: the tables exist only after the migrations, which run through this thread too. */
const castStatements = () => (cast ??= new CastStatements(sqlite));

/**
 * A second connection, for the one read the cast path makes outside any batch (the meeting's state):
 * it sees what is committed, never a batch half-written, and needs no turn of the main connection, which
 * a write batch holds from BEGIN to COMMIT. No COMMIT is under way while it reads (this thread runs one
 * message at a time), but a batch larger than the page cache takes the file to itself before its COMMIT:
 * then the read is made on the main connection instead (never waiting, which would wait for this thread).
 */
let readerDb: ReturnType<typeof openSqliteConnection> | null = null;
let reader: CastStatements | null = null;
const readStatements = () => {
  if (!reader) {
    readerDb = openSqliteConnection(file);
    readerDb.pragma('query_only = ON');
    // Never wait: the only writer it could wait for is the connection on this same thread.
    readerDb.pragma('busy_timeout = 0');
    reader = new CastStatements(readerDb);
  }
  return reader;
};

/** Parameters arrive as Uint8Array where the main thread sent a Buffer (structured clone); SQLite binds either as a blob. */
function param(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function answer(m: ThreadRequest): ThreadReply {
  switch (m.op) {
    case 'query': {
      const stmt = statements.prepare(m.sql);
      const params = m.params.map(param);
      if (stmt.reader) return { id: m.id, rows: stmt.all(params) as Record<string, unknown>[] };
      const r = stmt.run(params);
      return { id: m.id, changes: r.changes, lastInsertRowid: BigInt(r.lastInsertRowid) };
    }
    case 'freeSlots':
      return { id: m.id, value: castStatements().freeSlots(m.meetingId) };
    case 'liveRow':
      return { id: m.id, value: castStatements().liveRow(m.meetingId) };
    case 'meetingState':
      try {
        return { id: m.id, value: readStatements().meetingState(m.meetingId) };
      } catch (e) {
        // The batch under way holds the file (a transaction larger than the page cache spills into it
        // before its COMMIT): read on the main connection, inside that batch. What a cast reads here is
        // checked again by its write (state = 'voting'); a close in that batch is the only change it could see.
        if (String((e as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY')) return { id: m.id, value: castStatements().meetingState(m.meetingId) };
        throw e;
      }
    case 'cast': {
      const row: CastRow = { ...m.row, body: param(m.row.body) as Buffer };
      return { id: m.id, value: castStatements().write(row, m.slot) };
    }
    case 'begin':
      castStatements().begin();
      return { id: m.id, value: null };
    case 'commit':
      return { id: m.id, value: castStatements().commit(m.snapshots) };
    case 'commitIf':
      return { id: m.id, value: castStatements().commitIf(m.expect, m.snapshots) };
    case 'close':
      readerDb?.close();
      statements.close();
      return { id: m.id, value: null };
  }
}

/** A message is the requests of one turn of the main thread's event loop: answered in order, in one message. */
parentPort!.on('message', (requests: ThreadRequest[]) => {
  const replies: ThreadReply[] = [];
  let closing = false;
  const castTo = new Set<number>();
  for (const m of requests) {
    try {
      replies.push(answer(m));
      if (m.op === 'cast') castTo.add(m.row.meetingId);
    } catch (e) {
      const err = e as { message?: unknown; code?: unknown; name?: unknown };
      replies.push({ id: m.id, error: { message: String(err?.message ?? e), code: typeof err?.code === 'string' ? err.code : undefined, name: String(err?.name ?? 'Error') } });
    }
    if (m.op === 'close') closing = true;
  }
  // The live row of each meeting these casts wrote to, read after them inside their batch: the batch's
  // live step then needs no request of its own for it when these were its last writes (sqlite-thread.ts,
  // keptLiveRow). One read per message, on this thread, instead of a round trip per batch.
  if (castTo.size > 0 && !closing && sqlite.inTransaction) {
    try {
      replies.push({ id: 0, live: [...castTo].map((meetingId) => ({ meetingId, row: castStatements().liveRow(meetingId) })) });
    } catch {
      // Not kept: the live step reads it itself.
    }
  }
  parentPort!.postMessage(replies);
  if (closing) parentPort!.close();
});
