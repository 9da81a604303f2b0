/**
 * The live tally over the websocket (issue 2): turnout at once after every commit, distributions only in
 * k-anonymous snapshots, the final one at close, the polling route agreeing with the socket, and the
 * upgrade refused without a session, from another Origin, or to an inspector not on the meeting.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { loginAs, type AdminSession } from '../helpers/auth.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { snapshotDue, subscribeLive, wsHeaders, type LiveMessage, type LiveSubscriber } from '../helpers/live.ts';
import { countsOfResults, normalizeSent, recountStored } from '../helpers/recount.ts';
import { randomValidPackage, seededRng } from '../factories/forms.ts';
import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';
import type { LiveState, Snapshot } from '../../server/live/live.schemas.ts';
import type { Results } from '../../server/counting/tally.ts';
import { cast as castBallot, castPayload, type PhoneToken } from '../helpers/phone.ts';

async function cast(t: TestApp, token: PhoneToken, pkg: BallotPackage): Promise<void> {
  const res = await castBallot(t, token, pkg);
  if (res.statusCode !== 200) throw new Error(`cast → ${res.statusCode} ${res.body}`);
}

/** What a snapshot must show: a recount of exactly the first `count` packages cast. */
function expectSnapshotIsPrefix(form: Form, snapshot: Snapshot, sent: BallotPackage[]): void {
  const expected = recountStored(form, sent.slice(0, snapshot.count).map((p) => normalizeSent(form, p)));
  expect(countsOfResults(snapshot.parts as Results['parts']), `snapshot at ${snapshot.count}`).toEqual(expected);
}

const returned = (n: number) => (msgs: LiveMessage[]) => msgs.some((x) => x.type === 'turnout' && x.turnout.returned === n);

/**
 * Walk the messages in order and check the k-rule exactly: every snapshot is allowed by the rule
 * against the previous one, and wherever the rule allowed one at a commit, it was sent.
 * The server sends a batch's snapshot just before that batch's turnout.
 */
function checkKRule(all: LiveMessage[], issued: number, k: number): { counts: number[] } {
  // The 述职 timers share the socket; they carry nothing about ballots.
  const msgs = all.filter((m) => m.type !== 'timers');
  let last = 0;
  const counts: number[] = [];
  for (const [i, msg] of msgs.entries()) {
    if (msg.type === 'snapshot') {
      if (msg.snapshot.final) continue;
      expect(snapshotDue(msg.snapshot.count, last, issued, k), `snapshot at ${msg.snapshot.count} after ${last}`).toBe(true);
      expect(msg.snapshot.count - last).toBeGreaterThanOrEqual(k);
      const next = msgs[i + 1];
      expect(next?.type === 'turnout' && next.turnout.returned === msg.snapshot.count, 'a snapshot is followed by its turnout').toBe(true);
      last = msg.snapshot.count;
      counts.push(last);
    } else if (msg.type === 'turnout' && msg.state === 'voting' && msg.turnout.returned > 0) {
      const prev = msgs[i - 1];
      const sentSnapshot = prev?.type === 'snapshot' && prev.snapshot.count === msg.turnout.returned;
      if (snapshotDue(msg.turnout.returned, last, issued, k)) expect(sentSnapshot, `no snapshot at ${msg.turnout.returned}`).toBe(true);
      // A turnout message never carries a distribution.
      expect(Object.keys(msg).sort()).toEqual(['k', 'meetingId', 'state', 'turnout', 'type']);
    }
  }
  return { counts };
}

describe('live tally websocket', () => {
  let t: TestApp;
  let m: TestMeeting;
  let sub: LiveSubscriber | null;
  const ISSUED = 22;
  const K = 5;

  beforeEach(async () => {
    t = await makeTestApp();
    m = await makeMeeting(t, { kind: 'station', roster: ISSUED, signIn: ISSUED, liveK: K });
    sub = null;
  });
  afterEach(async () => {
    sub?.close();
    await t.close();
  });

  it('pushes turnout after every cast, a snapshot only per k ballots, and nothing when one ballot follows a snapshot', async () => {
    sub = await subscribeLive(t, m.meetingId, m.session);
    await sub.waitFor((msgs) => msgs.length >= 1);
    expect(sub.messages[0]).toMatchObject({ type: 'turnout', state: 'voting', k: K, turnout: { issued: ISSUED, returned: 0 } });
    expect(sub.snapshots()).toEqual([]);

    const form = m.form!;
    const rng = seededRng(7);
    const sent: BallotPackage[] = [];
    let last = 0;
    for (let i = 1; i <= ISSUED; i++) {
      const before = sub.snapshots();
      const pkg = randomValidPackage(form, rng);
      sent.push(pkg);
      await cast(t, m.tokens[i - 1]!, pkg);
      // Turnout at once: the reply comes after the commit, and the message right with it.
      await sub.waitFor(returned(i));
      const after = sub.snapshots();
      if (snapshotDue(i, last, ISSUED, K)) {
        expect(after.length, `a snapshot at ${i}`).toBe(before.length + 1);
        expect(after.at(-1)).toMatchObject({ count: i, final: false });
        expectSnapshotIsPrefix(form, after.at(-1)!, sent);
        last = i;
      } else {
        // One more ballot (or a few) after a snapshot: the distributions a subscriber holds do not move.
        expect(after, `no new snapshot at ${i}`).toEqual(before);
      }
    }
    // At 15 only 7 < 2k ballots are still out, so the next step waits for the close — even with all 22
    // in: a walk-in could still sign in, vote, and be the only difference to the result at close.
    expect(sub.snapshots().map((s) => s.count)).toEqual([5, 10]);
    const { counts } = checkKRule(sub.messages, ISSUED, K);
    expect(counts).toEqual([5, 10]);
    expect(sub.turnouts().filter((x) => x.state === 'voting').map((x) => x.turnout.returned)).toEqual(Array.from({ length: ISSUED + 1 }, (_, i) => i));
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await sub.waitFor((msgs) => msgs.some((x) => x.type === 'snapshot' && x.snapshot.final));
    expect(sub.snapshots().map((s) => s.count)).toEqual([5, 10, 22]);
  });

  it('holds the snapshot back while fewer than k ballots are outstanding, and sends the final one at close', async () => {
    sub = await subscribeLive(t, m.meetingId, m.session);
    const form = m.form!;
    const rng = seededRng(11);
    const sent: BallotPackage[] = [];
    // 18 of 22: snapshots at 5 and 10; from 13 on fewer than 2k are outstanding, so none until close.
    for (let i = 1; i <= 18; i++) {
      sent.push(randomValidPackage(form, rng));
      await cast(t, m.tokens[i - 1]!, sent.at(-1)!);
    }
    await sub.waitFor(returned(18));
    expect(sub.snapshots().map((s) => s.count)).toEqual([5, 10]);

    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await sub.waitFor((msgs) => msgs.some((x) => x.type === 'snapshot' && x.snapshot.final));
    await sub.waitFor((msgs) => msgs.some((x) => x.type === 'turnout' && x.state === 'closed'));
    const finals = sub.snapshots().filter((s) => s.final);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.count).toBe(18);
    // Four ballots were never returned (≤ k), yet the step at close is still at least k.
    expect(finals[0]!.count - 10).toBeGreaterThanOrEqual(K);
    expect(sub.snapshots().at(-1)).toEqual(finals[0]);
    expectSnapshotIsPrefix(form, finals[0]!, sent);
    // The final snapshot is the final result.
    const results = await call<Results>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);
    expect(finals[0]!.parts).toEqual(JSON.parse(JSON.stringify(results.parts)));
    checkKRule(sub.messages, ISSUED, K);
  });

  it('the polling route returns the same snapshot and turnout as the websocket', async () => {
    sub = await subscribeLive(t, m.meetingId, m.session);
    const poll = () => call<LiveState>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect((await poll()).snapshot).toBeNull();
    const rng = seededRng(3);
    for (let i = 1; i <= 12; i++) {
      await cast(t, m.tokens[i - 1]!, randomValidPackage(m.form!, rng));
      await sub.waitFor(returned(i));
      const p = await poll();
      const lastWs = sub.snapshots().at(-1) ?? null;
      expect(p.snapshot, `poll at ${i}`).toEqual(lastWs);
      expect(p.turnout).toEqual(sub.turnouts().at(-1)!.turnout);
      expect(p.k).toBe(K);
    }
    expect((await poll()).snapshot?.count).toBe(10);

    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await sub.waitFor((msgs) => msgs.some((x) => x.type === 'snapshot' && x.snapshot.final));
    const p = await poll();
    expect(p.state).toBe('closed');
    expect(p.snapshot).toEqual(sub.snapshots().at(-1));
    expect(p.snapshot).toMatchObject({ count: 12, final: true });

    // A late subscriber gets the current turnout and the last snapshot at once.
    const late = await subscribeLive(t, m.meetingId, m.session);
    try {
      await late.waitFor((msgs) => msgs.length >= 2);
      expect(late.messages[0]).toMatchObject({ type: 'turnout', state: 'closed', turnout: p.turnout });
      expect(late.snapshots()).toEqual([p.snapshot]);
    } finally {
      late.close();
    }
  });

  it('refuses the upgrade without a session, from another Origin, and to an inspector not on the meeting', async () => {
    const url = `/api/meetings/${m.meetingId}/live/ws`;
    const open = (headers: Record<string, string>) => t.app.injectWS(url, { headers });

    await expect(open(wsHeaders(null))).rejects.toThrow(/401/);
    await expect(open(wsHeaders(m.session, 'http://evil.example'))).rejects.toThrow(/403/);
    await expect(open(wsHeaders(m.session, 'http://localhost:8080'))).rejects.toThrow(/403/);
    await expect(open(wsHeaders(m.session, null))).rejects.toThrow(/403/);
    await expect(open({ ...wsHeaders(null), cookie: 'ceping_session=forged' })).rejects.toThrow(/401/);

    const inspector = await loginAs(t, { role: 'inspector' });
    await expect(open(wsHeaders(inspector))).rejects.toThrow(/403/);
    const polled = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/live`, headers: { cookie: inspector.cookie } });
    expect(polled.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/live` })).statusCode).toBe(401);

    // Once assigned, the same inspector is let in.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: inspector.adminId });
    sub = await subscribeLive(t, m.meetingId, inspector);
    await sub.waitFor((msgs) => msgs.length >= 1);
    expect(sub.messages[0]).toMatchObject({ type: 'turnout', meetingId: m.meetingId });
    // Nobody is subscribed after a refused upgrade but the admitted inspector.
    expect(t.app.services.live.subscriberCount(m.meetingId)).toBe(1);
  });
});

describe('a live socket outlives no session', () => {
  it('is closed after logout and after the inspector is taken off the meeting', async () => {
    const t = await makeTestApp({ env: { LIVE_RECHECK_SECONDS: '0.2' } });
    try {
      const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3 });
      const closedWithin = (ws: { on: (e: 'close', f: (code: number) => void) => void }) =>
        new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('socket still open')), 3000);
          ws.on('close', (code) => {
            clearTimeout(timer);
            resolve(code);
          });
        });
      const inspector = await loginAs(t, { role: 'inspector', username: 'kcz9' });
      await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: inspector.adminId });
      const a = await subscribeLive(t, m.meetingId, inspector);
      const aClosed = closedWithin(a.ws);
      await t.app.inject({ method: 'DELETE', url: `/api/meetings/${m.meetingId}/assignments/${inspector.adminId}`, headers: m.session.headers });
      expect(await aClosed).toBe(4001);

      const b = await subscribeLive(t, m.meetingId, m.session);
      const bClosed = closedWithin(b.ws);
      await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: m.session.headers });
      expect(await bClosed).toBe(4001);
    } finally {
      await t.close();
    }
  });
});

describe('paper ballots and the k-rule', () => {
  it('does not let typed-in paper ballots fill a step around one phone ballot', async () => {
    const t = await makeTestApp();
    try {
      const K = 5;
      const m = await makeMeeting(t, { kind: 'station', roster: 40, signIn: 36, paperSignIns: 4, liveK: K });
      const second = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
      await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });
      const sub = await subscribeLive(t, m.meetingId, m.session);
      const rng = seededRng(5);
      const cast = (i: number) =>
        call(t, m.session, 'POST', '/api/voter/cast', castPayload(m.tokens[i]!, randomValidPackage(m.form!, rng)));
      for (let i = 0; i < K; i++) await cast(i);
      await sub.waitFor((msgs) => msgs.some((x) => x.type === 'snapshot' && x.snapshot.count === K));
      // The team types k−1 paper forms and holds them; one phone ballot arrives; the team confirms.
      const pending: string[] = [];
      for (let i = 0; i < K - 1; i++) {
        pending.push((await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: {} })).pendingId);
      }
      await cast(K);
      for (const id of pending) await call(t, second, 'POST', `/api/meetings/${m.meetingId}/paper-ballots/${id}/confirm`, {});
      await sub.waitFor((msgs) => msgs.some((x) => x.type === 'turnout' && x.turnout.returned === 2 * K));
      expect(sub.snapshots().map((x) => x.count)).toEqual([K]);
      // Only k more phone ballots make the next step.
      for (let i = K + 1; i < 2 * K; i++) await cast(i);
      await sub.waitFor((msgs) => msgs.some((x) => x.type === 'snapshot' && x.snapshot.count === 3 * K - 1));
      expect(sub.snapshots().map((x) => x.count)).toEqual([K, 3 * K - 1]);
      sub.close();
    } finally {
      await t.close();
    }
  });
});

describe('live tally property: no subscriber ever sees a distribution move by fewer than k ballots', () => {
  let t: TestApp;
  let session: AdminSession;
  beforeAll(async () => {
    t = await makeTestApp();
    session = await loginAs(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('random meetings, k and bursts of concurrent casts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 24 }).chain((issued) =>
          fc.record({
            k: fc.integer({ min: 3, max: 6 }),
            issued: fc.constant(issued),
            // Mostly a good turnout, sometimes everyone, sometimes few.
            cast: fc.oneof(fc.integer({ min: Math.floor(issued / 2), max: issued }), fc.constant(issued), fc.integer({ min: 0, max: issued })),
            bursts: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 24 }),
            seed: fc.integer(),
          }),
        ),
        async ({ k, issued, cast: total, bursts, seed }) => {
          const m = await makeMeeting(t, { kind: 'station', roster: issued, signIn: issued, liveK: k, session });
          const form = m.form!;
          const rng = seededRng(seed);
          const sub = await subscribeLive(t, m.meetingId, m.session);
          try {
            await sub.waitFor((msgs) => msgs.length >= 1);
            // Each burst casts one package several times at once, so any commit order within a burst counts the same.
            const sent: BallotPackage[] = [];
            let done = 0;
            for (const size of bursts) {
              const n = Math.min(size, total - done);
              if (n <= 0) break;
              const pkg = randomValidPackage(form, rng);
              await Promise.all(Array.from({ length: n }, (_, j) => cast(t, m.tokens[done + j]!, pkg)));
              for (let j = 0; j < n; j++) sent.push(pkg);
              done += n;
              await sub.waitFor(returned(done));
            }
            while (done < total) {
              const pkg = randomValidPackage(form, rng);
              await cast(t, m.tokens[done]!, pkg);
              sent.push(pkg);
              done++;
              await sub.waitFor(returned(done));
            }
            await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
            await sub.waitFor((msgs) => msgs.some((x) => x.type === 'turnout' && x.state === 'closed'));

            const { counts } = checkKRule(sub.messages, issued, k);
            for (let i = 1; i < counts.length; i++) expect(counts[i]! - counts[i - 1]!).toBeGreaterThanOrEqual(k);
            if (counts.length > 0) expect(counts[0]).toBeGreaterThanOrEqual(k);
            for (const s of sub.snapshots()) expectSnapshotIsPrefix(form, s, sent);
            // Distributions never change between snapshots: the only messages carrying parts are snapshots,
            // and two snapshots of the same count are identical.
            for (const msg of sub.messages) if (msg.type === 'turnout') expect('snapshot' in msg || 'parts' in msg).toBe(false);
            const finals = sub.snapshots().filter((s) => s.final);
            expect(finals).toHaveLength(1);
            expect(finals[0]!.count).toBe(total);
          } finally {
            sub.close();
          }
        },
      ),
      { numRuns: 20 },
    );
  }, 60_000);
});

describe('a live socket takes no large frames', () => {
  it('closes with 1009 (listed in the OpenAPI document) on a frame from the client over 64 KiB', async () => {
    const t = await makeTestApp();
    try {
      const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3 });
      const sub = await subscribeLive(t, m.meetingId, m.session);
      const closed = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('socket still open')), 3000);
        sub.ws.on('close', (code: number) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      sub.ws.send('x'.repeat(64 * 1024 + 1));
      expect(await closed).toBe(1009);
    } finally {
      await t.close();
    }
  });
});
