/**
 * The close always finishes: the rebuild of the file after close (VACUUM: history, keys, nullifiers and
 * empty slots gone) is retried until it succeeds, and done at start-up for a meeting closed but not yet
 * rebuilt. Seal waits for it. Checked with a reader holding the file (a sqlite3 shell, a backup), and
 * with a real server process killed (SIGKILL) between the close and the rebuild.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast } from '../helpers/phone.ts';
import { seeded, shuffle } from '../helpers/stats.ts';
import { findAll, pairOrderAgreement } from '../helpers/sqlite-raw.ts';
import { castOver, freePort, HttpAdmin, startServer, votingMeetingOver, type ServerProcess } from '../helpers/server-process.ts';

const latin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
const MARK = new RegExp(`${latin1('第')}(\\d+)${latin1('张')}`, 'g');

/**
 * The cast position of each ballot in the file, in the order its bytes lie: what a copy tells of the
 * order. After the seal each ballot's comment is there three times: in its slot, in the comments kept at
 * close (in a keyed hash order) and in the signed archive (shuffled).
 */
function orderInFile(file: string): { agree: number; n: number } {
  const found = findAll(readFileSync(file), MARK).map((x) => Number(x.match[1]));
  return { agree: pairOrderAgreement(found, found.map((_, i) => i)).agree, n: found.length };
}

/** A read transaction on the file from another connection: it holds a shared lock until released. */
function holdReader(file: string): () => void {
  const reader = new Database(file, { readonly: true, fileMustExist: true });
  reader.prepare('begin').run();
  reader.prepare('select count(*) from ballots').get();
  return () => {
    reader.prepare('commit').run();
    reader.close();
  };
}

describe('the close always finishes', () => {
  let t: TestApp | null = null;
  afterEach(async () => {
    await t?.close();
    t = null;
  });

  it('a reader across the close: the close waits for it (nothing half-written), the rebuild is retried, seal waits for the rebuild', async () => {
    t = await makeTestApp({ seed: 31 });
    const m = await makeMeeting(t, { kind: 'station', roster: 30, signIn: 30 });
    for (const [i, p] of shuffle(Array.from({ length: 30 }, (_, i) => i), seeded(5)).entries()) {
      expect((await cast(t, m.tokens[p]!, fullPackage(m.form!, 1, `第${i}张`))).statusCode).toBe(200);
    }
    // A reader holds the file while the team closes: the close cannot write, says so, and changes nothing.
    let release = holdReader(t.file);
    const refused = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/close-voting`, headers: m.session.headers });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe('DATABASE_BUSY');
    release();
    expect((await call<{ state: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`)).state).toBe('voting');

    // Closed; a reader comes in before the rebuild: the rebuild fails and is retried, and the seal waits.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    release = holdReader(t.file);
    expect(await t.app.services.compactor.runNow()).toBe(false);
    const early = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/seal`, headers: m.session.headers });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('COMPACTING');
    expect((await call<{ compacted: boolean }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`)).compacted).toBe(false);
    release();
    // The retry (every 2 s) finishes it without anyone asking.
    const until = Date.now() + 10_000;
    while (!(await call<{ compacted: boolean }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`)).compacted) {
      if (Date.now() > until) throw new Error('the rebuild was not retried');
      await new Promise((r) => setTimeout(r, 100));
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    const { agree, n } = orderInFile(t.file);
    expect(n).toBe(3 * 30);
    expect(Math.abs(agree - 0.5)).toBeLessThan(0.2);
    expect(existsSync(`${t.file}-wal`)).toBe(false);
  }, 60_000);

  describe('a server process killed between the close and the rebuild', () => {
    let server: ServerProcess | null = null;
    let dir = '';
    afterEach(async () => {
      await server?.stop().catch(() => undefined);
      server = null;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('comes back closed, rebuilds at start-up, and seals with no cast order left in the file', async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'ceping-kill-'));
      const port = await freePort();
      server = await startServer(dir, port);
      const admin = new HttpAdmin(server.base);
      await admin.setup(server.setupCode!);
      const { meetingId, form, tokens } = await votingMeetingOver(admin, 24);
      const meeting = { id: meetingId };
      for (const [i, p] of shuffle(tokens.map((_, i) => i), seeded(9)).entries()) {
        expect((await castOver(server.base, tokens[p]!, fullPackage(form, 1, `第${i}张`))).status).toBe(200);
      }
      const file = path.join(dir, 'ceping.db');
      // The close commits; a reader takes the file before the rebuild (which waits a second after the
      // close), so the rebuild fails and waits to retry — and then the process is killed.
      await admin.call('POST', `/api/meetings/${meeting.id}/close-voting`);
      const release = holdReader(file);
      await new Promise((r) => setTimeout(r, 1500));
      await server.kill();
      server = null;
      release();
      const after = new Database(file, { readonly: true });
      expect(after.prepare('select state, compacted_at from meetings where id = ?').get(meeting.id)).toEqual({ state: 'closed', compacted_at: null });
      after.close();

      // Started again on the same files: the rebuild happens at start-up, then the seal.
      server = await startServer(dir, port);
      const again = new HttpAdmin(server.base);
      await again.login();
      const until = Date.now() + 15_000;
      while (!(await again.call<{ compacted: boolean }>('GET', `/api/meetings/${meeting.id}`)).compacted) {
        if (Date.now() > until) throw new Error('no rebuild at start-up');
        await new Promise((r) => setTimeout(r, 100));
      }
      await again.call('POST', `/api/meetings/${meeting.id}/seal`);
      await server.stop();
      server = null;
      const { agree, n } = orderInFile(file);
      expect(n).toBe(3 * 24);
      expect(Math.abs(agree - 0.5)).toBeLessThan(0.2);
      const db = new Database(file, { readonly: true });
      expect(db.prepare('select count(*) as n from meeting_keys').get()).toEqual({ n: 0 });
      expect(db.prepare('select count(*) as n from spent_tokens').get()).toEqual({ n: 0 });
      expect(db.prepare("pragma integrity_check").get()).toEqual({ integrity_check: 'ok' });
      db.close();
    }, 120_000);
  });
});
