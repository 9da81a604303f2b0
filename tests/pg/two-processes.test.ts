/**
 * Two real server processes (as `npm start` starts them) on one PostgreSQL database and one data folder,
 * started at the same moment: they migrate once and make one pair of keys. Phones cast through both at
 * once; every window on either process sees the same live steps, turnout and timers within a second;
 * the same token sent to both at once is accepted by exactly one; and when one process is killed in the
 * middle of the meeting, the other goes on and the restarted one finds everything as it was.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castOver, freePort, HttpAdmin, startServer, twoProcessesVoting, type HttpMeeting, type ServerProcess } from '../helpers/server-process.ts';
import { fullPackage } from '../helpers/packages.ts';
import { freshDatabaseUrl, pgInfo } from '../helpers/pg.ts';
import type { LiveMessage } from '../helpers/live.ts';
import type { PhoneToken } from '../helpers/phone.ts';

const pg = await pgInfo();
const PEOPLE = 60;
const K = 5;

interface Window {
  messages: { at: number; m: LiveMessage }[];
  close(): void;
}

/** A dashboard window on one process: its live socket, every message with the time it came. */
async function openWindow(base: string, admin: HttpAdmin, meetingId: number): Promise<Window> {
  const messages: Window['messages'] = [];
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/meetings/${meetingId}/live/ws`, { headers: { cookie: admin.cookie, origin: base } });
  ws.on('message', (d) => messages.push({ at: Date.now(), m: JSON.parse(String(d)) as LiveMessage }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { messages, close: () => ws.close() };
}

async function until(what: string, pred: () => boolean, ms = 10_000): Promise<number> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now();
}

const snapshotCounts = (w: Window) => w.messages.flatMap((x) => (x.m.type === 'snapshot' ? [x.m.snapshot.count] : []));
const lastTurnout = (w: Window) => w.messages.map((x) => x.m).filter((m): m is Extract<LiveMessage, { type: 'turnout' }> => m.type === 'turnout').at(-1);

describe.skipIf(!pg)('two server processes on one PostgreSQL database', () => {
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let adminA: HttpAdmin;
  let adminB: HttpAdmin;
  let meeting: HttpMeeting;
  let env: Record<string, string>;
  const windows: Window[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ceping-two-'));
    env = { DATABASE_URL: await freshDatabaseUrl(), LOG_LEVEL: 'warn' };
    // At the same moment, on one data folder and one empty database: one migration, one pair of keys.
    ({ a, b, adminA, adminB, meeting } = await twoProcessesVoting(dir, env, PEOPLE));
  }, 300_000);

  afterAll(async () => {
    for (const w of windows) w.close();
    await Promise.all([a?.stop(), b?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('started together, they share one archive key and say they are on PostgreSQL', async () => {
    const fingerprint = (p: ServerProcess) => /档案签名公钥指纹 \(archive key\): ([0-9A-F ]+)/.exec(p.output())?.[1];
    expect(fingerprint(a)).toBeTruthy();
    expect(fingerprint(b)).toBe(fingerprint(a));
    for (const p of [a, b]) expect(((await (await fetch(`${p.base}/healthz`)).json()) as { database: string }).database).toBe('postgres');
  });

  it('a third process on another data folder, with keys of its own, refuses to start and says to copy the key files', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'ceping-other-keys-'));
    try {
      const err = await startServer(other, await freePort(), env).then(
        async (p) => {
          await p.stop();
          return '';
        },
        (e: Error) => e.message,
      );
      expect(err).toContain('密钥文件（secret.key、signing.key）与这个数据库的其他服务器进程不同');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 120_000);

  it('casts through both at once: one count, the same live steps on every window, no step of fewer than k, timers on both within a second', async () => {
    windows.push(await openWindow(a.base, adminA, meeting.meetingId), await openWindow(b.base, adminB, meeting.meetingId));
    const [wa, wb] = windows as [Window, Window];
    // Everyone but the last ten casts now, through A and B alternately, in waves of ten all in flight
    // together: each wave adds at least k, so at least one step per wave however the batches fall (one
    // burst of fifty could land in two batches, hence two steps, on an idle machine).
    const grades = meeting.tokens.map((_, i) => 1 + (i % 3));
    const first = meeting.tokens.slice(0, PEOPLE - 10);
    const replies: { status: number }[] = [];
    for (let w = 0; w < first.length; w += 10) {
      replies.push(...(await Promise.all(first.slice(w, w + 10).map((tok, j) => castOver((w + j) % 2 ? b.base : a.base, tok, fullPackage(meeting.form, grades[w + j]!, `第${w + j}张`))))));
    }
    expect(replies.map((r) => r.status)).toEqual(first.map(() => 200));
    const done = Date.now();
    for (const w of windows) {
      const at = await until('the last turnout on every window', () => lastTurnout(w)?.turnout.returned === PEOPLE - 10, 5_000);
      expect(at - done, 'turnout reached the window within a second').toBeLessThan(1_000);
    }
    // One sequence of steps, the same on both processes, each at least k phone ballots after the last.
    expect(snapshotCounts(wa).length).toBeGreaterThan(2);
    expect(snapshotCounts(wa)).toEqual(snapshotCounts(wb));
    const counts = snapshotCounts(wa);
    for (let i = 1; i < counts.length; i++) expect(counts[i]! - counts[i - 1]!, `steps ${counts.join(', ')}`).toBeGreaterThanOrEqual(K);

    // The 述职 timer started on A is running on B's window within a second.
    const before = wb.messages.length;
    const sent = Date.now();
    await adminA.call('POST', `/api/meetings/${meeting.meetingId}/timers`, { action: 'start' });
    const seen = await until('the timers on B', () => wb.messages.slice(before).some((x) => x.m.type === 'timers' && x.m.timers.running), 5_000);
    expect(seen - sent).toBeLessThan(1_000);
  });

  it('the same token sent to both at once is accepted once: with another package refused, with the same one answered as already recorded', async () => {
    const spare = meeting.tokens.slice(PEOPLE - 10, PEOPLE - 4);
    for (const [i, tok] of spare.entries()) {
      const sameBody = i % 2 === 0;
      const [x, y] = await Promise.all([
        castOver(a.base, tok, fullPackage(meeting.form, 1, `甲${i}`)),
        castOver(b.base, tok, fullPackage(meeting.form, 1, sameBody ? `甲${i}` : `乙${i}`)),
      ]);
      const bodies = [x, y].map((r) => r.body as { alreadyRecorded?: boolean; error?: { code: string } });
      if (sameBody) {
        expect([x.status, y.status]).toEqual([200, 200]);
        expect(bodies.map((r) => r.alreadyRecorded).sort()).toEqual([false, true]);
      } else {
        expect([x.status, y.status].sort()).toEqual([200, 409]);
        expect(bodies.find((r) => r.error)?.error?.code).toBe('TOKEN_USED');
      }
    }
    const live = await adminB.call<{ turnout: { returned: number } }>('GET', `/api/meetings/${meeting.meetingId}/live`);
    expect(live.turnout.returned).toBe(PEOPLE - 4);
  });

  it('a process killed mid-meeting: the other goes on; restarted, it finds every ballot and the close is one', async () => {
    const last: PhoneToken[] = meeting.tokens.slice(PEOPLE - 4);
    await a.kill();
    expect((await castOver(b.base, last[0]!, fullPackage(meeting.form, 2, '甲死后'))).status).toBe(200);
    a = await startServer(dir, Number(new URL(a.base).port), env);
    for (const [i, tok] of last.slice(1).entries()) expect((await castOver(i % 2 ? a.base : b.base, tok, fullPackage(meeting.form, 3, `重启后${i}`))).status).toBe(200);
    const wa = await openWindow(a.base, adminA, meeting.meetingId);
    windows.push(wa);
    await adminB.call('POST', `/api/meetings/${meeting.meetingId}/close-voting`);
    const [, wb] = windows as [Window, Window];
    for (const w of [wa, wb]) await until('the final step', () => w.messages.some((x) => x.m.type === 'snapshot' && x.m.snapshot.final), 5_000);
    const ra = await adminA.call<{ turnout: { returned: number }; parts: unknown[] }>('GET', `/api/meetings/${meeting.meetingId}/results`);
    const rb = await adminB.call<{ turnout: { returned: number }; parts: unknown[] }>('GET', `/api/meetings/${meeting.meetingId}/results`);
    expect(ra).toEqual(rb);
    expect(ra.turnout.returned).toBe(PEOPLE);
  }, 120_000);
});
