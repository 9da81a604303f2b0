/**
 * PostgreSQL goes away in the middle of a meeting (`pg_ctl stop -m immediate`: every backend killed, as
 * a crash of the database server or a pulled cable) while casts are in flight on two server processes,
 * and more arrive while it is down; then it comes back. Checked: every cast answered 2xx is in the stored
 * ballots exactly once; a cast during the outage gets 503 with a Chinese message and writes nothing (no
 * spent token without its ballot, no ballot without its spent token); the same phone casts again with the
 * same token once PostgreSQL is back; neither process dies, and both recover by themselves (their pools
 * reconnect); /healthz says the database is unreachable while it is; and the dashboards on both processes
 * go on receiving live steps afterwards (the LISTEN connection between the processes is made again).
 *
 * This file starts a cluster of its own: the run's shared one must not be stopped under the other tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castOver, freePort, HttpAdmin, twoProcessesVoting, type HttpMeeting, type ServerProcess } from '../helpers/server-process.ts';
import { fullPackage } from '../helpers/packages.ts';
import { adminQuery, crashCluster, databaseUrl, findPostgresBin, restartCluster, startCluster, stopCluster, type PgCluster } from '../helpers/pg-cluster.ts';
import { decodeSlot } from '../../server/ballots/slots.ts';
import type { LiveMessage } from '../helpers/live.ts';

const bin = findPostgresBin();
const PEOPLE = 30;
/** Phones 0–7 cast before the crash, 8–19 are in flight at it, 20–23 cast while it is down, 24– after it, through A only. */
const [IN_FLIGHT, DURING, AFTER] = [8, 20, 24];

interface Window {
  messages: LiveMessage[];
  closed: () => boolean;
  close(): void;
}

async function openWindow(base: string, admin: HttpAdmin, meetingId: number): Promise<Window> {
  const messages: LiveMessage[] = [];
  let closed = false;
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/meetings/${meetingId}/live/ws`, { headers: { cookie: admin.cookie, origin: base } });
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as LiveMessage));
  ws.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { messages, closed: () => closed, close: () => ws.close() };
}

async function until(what: string, pred: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await pred())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const snapshotCounts = (w: Window) => w.messages.flatMap((m) => (m.type === 'snapshot' ? [m.snapshot.count] : []));
const lastReturned = (w: Window) => w.messages.filter((m): m is Extract<LiveMessage, { type: 'turnout' }> => m.type === 'turnout').at(-1)?.turnout.returned ?? -1;
const CHINESE = /[\u4e00-\u9fff]/;

describe.skipIf(!bin)('PostgreSQL unreachable mid-meeting', () => {
  let cluster: PgCluster;
  let dir: string;
  let url: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let adminA: HttpAdmin;
  let adminB: HttpAdmin;
  let meeting: HttpMeeting;
  const windows: Window[] = [];

  beforeAll(async () => {
    cluster = await startCluster(bin!, await freePort());
    await adminQuery(cluster, 'create database ceping');
    url = databaseUrl(cluster, 'ceping');
    dir = mkdtempSync(path.join(tmpdir(), 'ceping-outage-'));
    // k = 3: the live steps go on until 6 tickets are left out, so some come after the outage whichever casts it took.
    const env = { DATABASE_URL: url, LOG_LEVEL: 'warn', LIVE_K: '3' };
    ({ a, b, adminA, adminB, meeting } = await twoProcessesVoting(dir, env, PEOPLE));
  }, 300_000);

  afterAll(async () => {
    for (const w of windows) w.close();
    await Promise.all([a?.stop(), b?.stop()]);
    if (cluster) stopCluster(cluster);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What is stored now: the comments of the filled ballots, the spent tokens, the receipts, the meeting's counter. */
  async function stored(): Promise<{ comments: string[]; spent: number; receipts: number; castCount: number }> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const m = meeting.meetingId;
      const ballots = await c.query<{ body: Buffer }>('select body from ballots where meeting_id = $1 and filled = 1', [m]);
      const comments = ballots.rows.map((r) => {
        const pkg = JSON.parse(decodeSlot(r.body)) as Record<string, { text?: string }>;
        return Object.values(pkg).find((p) => typeof p.text === 'string')!.text!;
      });
      const n = async (q: string) => Number((await c.query<{ n: string }>(q, [m])).rows[0]!.n);
      return {
        comments,
        spent: await n('select count(*) as n from spent_tokens where meeting_id = $1'),
        receipts: await n('select count(*) as n from receipts where meeting_id = $1'),
        castCount: await n('select cast_count as n from meetings where id = $1'),
      };
    } finally {
      await c.end();
    }
  }

  /** A cast whose connection broke (the process died) is a status 0, not an exception: the test says which process. */
  async function send(base: string, i: number, pkg: ReturnType<typeof fullPackage>): Promise<{ status: number; body: unknown }> {
    return castOver(base, meeting.tokens[i]!, pkg).catch((e: Error) => ({ status: 0, body: `${e.message}: ${(base === a.base ? a : b).output()}` }));
  }

  it('casts in flight and during the outage: no acknowledged ballot lost, none half-written, the refused ones cast again after; both processes recover by themselves, live steps included', async () => {
    const pkgOf = (i: number) => fullPackage(meeting.form, 1 + (i % 3), `第${i}张`);
    const via = (i: number) => (i % 2 ? b.base : a.base);
    windows.push(await openWindow(a.base, adminA, meeting.meetingId), await openWindow(b.base, adminB, meeting.meetingId));
    const [wa, wb] = windows as [Window, Window];

    // Before: eight casts acknowledged, seen live on both processes.
    for (let i = 0; i < IN_FLIGHT; i++) expect((await send(via(i), i, pkgOf(i))).status).toBe(200);
    for (const w of windows) await until('the turnout on every window', () => lastReturned(w) === IN_FLIGHT);
    const stepsBefore = snapshotCounts(wb).length;
    expect(stepsBefore).toBeGreaterThan(0);

    // Twelve casts sent at once through both processes, and PostgreSQL killed while they are in flight.
    const inFlight = Array.from({ length: DURING - IN_FLIGHT }, (_, j) => IN_FLIGHT + j).map(async (i) => ({ i, r: await send(via(i), i, pkgOf(i)) }));
    // Once the first of them is answered, batches are being written: the rest are in the queue or its transaction.
    await Promise.race(inFlight);
    await crashCluster(cluster);
    const wave = await Promise.all(inFlight);

    // While it is down: four more phones, refused with 503 and a Chinese message that says nothing was saved.
    const during: { i: number; r: { status: number; body: unknown } }[] = [];
    for (let i = DURING; i < AFTER; i++) during.push({ i, r: await send(via(i), i, pkgOf(i)) });
    for (const { r } of during) {
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      const err = (r.body as { error: { code: string; message: string } }).error;
      expect(err.code).toBe('DATABASE_UNAVAILABLE');
      expect(err.message).toMatch(CHINESE);
    }
    // Every answer of the wave is an acceptance or that same refusal: no 500, no hang.
    for (const { r } of wave) {
      if (r.status !== 200) {
        expect(r.status, JSON.stringify(r.body)).toBe(503);
        expect((r.body as { error: { code: string } }).error.code).toBe('DATABASE_UNAVAILABLE');
      }
    }
    // The document the server publishes declares these answers.
    const doc = (await (await fetch(`${a.base}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const [p, m] of [['/api/voter/cast', 'post'], ['/healthz', 'get'], ['/api/meetings/{id}/live', 'get']] as const) {
      expect(doc.paths[p]![m]!.responses, `${m} ${p}`).toHaveProperty('503');
    }
    // /healthz tells the truth, and both processes are still there.
    for (const p of [a, b]) {
      const h = await fetch(`${p.base}/healthz`);
      expect(h.status).toBe(503);
      expect(((await h.json()) as { error: { code: string } }).error.code).toBe('DATABASE_UNAVAILABLE');
      expect(p.proc.exitCode, p.output()).toBeNull();
    }
    // A dashboard page's poll gets the same refusal, not a 500.
    expect((await adminA.request('GET', `/api/meetings/${meeting.meetingId}/live`)).status).toBe(503);

    // PostgreSQL comes back: nothing is restarted on the Ceping side.
    await restartCluster(cluster);
    for (const p of [a, b]) await until('healthz ok again', async () => (await fetch(`${p.base}/healthz`)).status === 200);

    const acknowledged = [...Array.from({ length: IN_FLIGHT }, (_, i) => i), ...wave.filter((x) => x.r.status === 200).map((x) => x.i)];
    // Nothing half-written: as many spent tokens as filled ballots as receipts as the counter says, and
    // every acknowledged ballot among them (a refused one in flight at the crash may be there too: its
    // COMMIT may have reached the disk before the reply was lost).
    const after = await stored();
    expect(after.spent).toBe(after.comments.length);
    expect(after.receipts).toBe(after.comments.length);
    expect(after.castCount).toBe(after.comments.length);
    expect(new Set(after.comments).size).toBe(after.comments.length);
    for (const i of acknowledged) expect(after.comments).toContain(`第${i}张`);
    for (const { i } of during) expect(after.comments).not.toContain(`第${i}张`);

    // New phones cast through A only: B's window hears of them only over LISTEN/NOTIFY, which B must have
    // subscribed to again on its new connection. Its websocket stayed open throughout.
    for (let i = AFTER; i < PEOPLE; i++) expect((await send(a.base, i, pkgOf(i))).status).toBe(200);
    const returned = after.comments.length + PEOPLE - AFTER;
    for (const w of windows) {
      expect(w.closed()).toBe(false);
      await until(`turnout ${returned} on the window`, () => lastReturned(w) === returned);
    }
    await until('a live step on B from A after the outage', () => snapshotCounts(wb).some((c) => c > after.comments.length));
    expect(snapshotCounts(wb).length).toBeGreaterThan(stepsBefore);
    expect(snapshotCounts(wa).at(-1)).toBe(snapshotCounts(wb).at(-1));

    // Every refused phone re-sends the same token and package, as the page does, and is accepted; one whose
    // commit did land before the crash gets "already recorded".
    const refused = [...wave.filter((x) => x.r.status !== 200), ...during];
    for (const { i } of refused) {
      const again = await send(i % 2 ? a.base : b.base, i, pkgOf(i));
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect((again.body as { alreadyRecorded: boolean }).alreadyRecorded).toBe(after.comments.includes(`第${i}张`));
    }
    for (const w of windows) await until(`turnout ${PEOPLE} on the window`, () => lastReturned(w) === PEOPLE);

    const final = await stored();
    expect(final.comments.sort()).toEqual(Array.from({ length: PEOPLE }, (_, i) => `第${i}张`).sort());
    expect([final.spent, final.receipts, final.castCount]).toEqual([PEOPLE, PEOPLE, PEOPLE]);

    await adminB.call('POST', `/api/meetings/${meeting.meetingId}/close-voting`);
    const results = await adminA.call<{ turnout: { returned: number } }>('GET', `/api/meetings/${meeting.meetingId}/results`);
    expect(results.turnout.returned).toBe(PEOPLE);
    for (const p of [a, b]) expect(p.proc.exitCode, p.output()).toBeNull();
  }, 180_000);
});
