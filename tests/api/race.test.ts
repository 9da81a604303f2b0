/**
 * The races: 200 tokens (100 on PostgreSQL), 10 concurrent casts each, all in flight at once — exactly one cast per token is
 * accepted; ballots == spent tokens == sign-ins; the write queue grouped commits. And 100 tickets
 * redeemed by 5 phones each at once — exactly one blinded element per ticket is evaluated.
 */
import { sql, type RawBuilder } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, openReader, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, newBlinding, redeemRequest } from '../helpers/phone.ts';
import { toB64u } from '../../server/credentials/voprf.ts';
import { seeded, shuffle } from '../helpers/stats.ts';
import { testBackend } from '../helpers/pg.ts';

// On PostgreSQL (the \`pg\` project runs this file again) half as many: the same races, in half the time.
const PEOPLE = testBackend === 'postgres' ? 100 : 200;
const TRIES = 10;

describe('concurrent casts on the same tokens, concurrent redemptions of the same tickets', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  /**
   * all-at-once: every request is fired in the same turn (they tend to land in one shared transaction).
   * staggered: each request waits 0–300 ms first, so tries of one token fall into different batches
   * and many find it unused when they look it up, then burnt inside the queue.
   */
  it.each([
    { mode: 'all at once', stagger: 0 },
    { mode: 'staggered over many batches', stagger: 300 },
  ])(`${PEOPLE} tokens × ${TRIES} concurrent casts ($mode): exactly one accepted each, ballots == spent == sign-ins`, async ({ stagger }) => {
    const m = await makeMeeting(t, { kind: 'village', roster: PEOPLE, signIn: PEOPLE });
    const form = m.form!;
    const commitsBefore = t.app.services.ballots.commits;

    // Packages differ between tries (the comment), so no request is a retry of another.
    const jobs = shuffle(
      Array.from({ length: PEOPLE * TRIES }, (_, j) => ({ person: j % PEOPLE, attempt: Math.floor(j / PEOPLE) })),
      seeded(4000),
    );
    const started = Date.now();
    const answers = await Promise.all(
      jobs.map(async ({ person, attempt }, j) => {
        if (stagger > 0) await new Promise((r) => setTimeout(r, (j * 7919) % stagger));
        const res = await cast(t, m.tokens[person]!, fullPackage(form, 1 + (attempt % 3), `第${attempt}次`));
        return { person, status: res.statusCode, body: res.json() as { alreadyRecorded?: boolean; error?: { code: string } } };
      }),
    );
    const elapsed = Date.now() - started;

    const accepted = new Map<number, number>();
    const others = new Map<string, number>();
    for (const a of answers) {
      if (a.status === 200) {
        expect(a.body.alreadyRecorded).toBe(false);
        accepted.set(a.person, (accepted.get(a.person) ?? 0) + 1);
      } else {
        const key = `${a.status} ${a.body.error?.code}`;
        others.set(key, (others.get(key) ?? 0) + 1);
      }
    }
    // Exactly one success per token, every other answer a clean TOKEN_USED.
    expect(accepted.size).toBe(PEOPLE);
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    expect(Object.fromEntries(others)).toEqual({ '409 TOKEN_USED': PEOPLE * (TRIES - 1) });

    // The database agrees, read through a connection of its own.
    const ro = openReader(t);
    try {
      const one = async (q: RawBuilder<{ n: number }>) => Number((await q.execute(ro)).rows[0]!.n);
      const ballots = await one(sql`select count(*) as n from ballots where meeting_id = ${m.meetingId} and filled = 1`);
      const burnt = await one(sql`select count(*) as n from spent_tokens where meeting_id = ${m.meetingId}`);
      const signedIn = await one(sql`select count(*) as n from roster_entries where meeting_id = ${m.meetingId} and signed_in = 1`);
      const meeting = (await sql<{ cast_count: number; issued_count: number }>`select cast_count, issued_count from meetings where id = ${m.meetingId}`.execute(ro)).rows[0];
      expect(ballots).toBe(PEOPLE);
      expect(burnt).toBe(ballots);
      expect(ballots).toBeLessThanOrEqual(signedIn);
      expect(meeting).toEqual({ cast_count: PEOPLE, issued_count: PEOPLE });
      expect(await one(sql`select count(*) as n from receipts where meeting_id = ${m.meetingId}`)).toBe(PEOPLE);
    } finally {
      await ro.destroy();
    }

    // Group commit: requests shared transactions (how many share one depends on how fast the token
    // checks come back from the worker threads; tests/unit/write-queue.test.ts checks the grouping itself).
    const commits = t.app.services.ballots.commits - commitsBefore;
    expect(commits).toBeGreaterThan(0);
    expect(commits, `${commits} commits for ${PEOPLE * TRIES} requests`).toBeLessThan(PEOPLE * TRIES);
    if (stagger > 0) expect(commits, 'staggered casts should span several batches').toBeGreaterThan(1);

    const live = await call<{ turnout: { returned: number; issued: number; present: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout).toMatchObject({ returned: PEOPLE, issued: PEOPLE, present: PEOPLE });
    // A late try after the storm is still refused.
    const late = await cast(t, m.tokens[0]!, fullPackage(form));
    expect(late.json().error.code).toBe('TOKEN_USED');
    console.info(`race (${t.backend}, stagger ${stagger} ms): ${PEOPLE * TRIES} casts in ${elapsed} ms, ${commits} commits`);
  }, 240_000);

  it('100 tickets × 5 phones redeeming at once: exactly one blinded element per ticket is evaluated', async () => {
    const m = await makeMeeting(t, { kind: 'village', roster: 100, signIn: 100, redeem: false, open: false });
    const tries = m.tickets.flatMap((ticket, person) => Array.from({ length: 5 }, () => ({ person, ticket, blinding: newBlinding() })));
    const answers = await Promise.all(
      shuffle(tries, seeded(77)).map(async (x) => ({ person: x.person, res: await redeemRequest(t, x.ticket, toB64u(x.blinding.blinded)) })),
    );
    const won = new Map<number, number>();
    for (const a of answers) {
      if (a.res.statusCode === 200) won.set(a.person, (won.get(a.person) ?? 0) + 1);
      else expect(a.res.json().error.code).toBe('TICKET_USED');
    }
    expect(won.size).toBe(100);
    expect([...won.values()].every((n) => n === 1)).toBe(true);
    const redeemed = await t.db.selectFrom('tickets').select('id').where('meeting_id', '=', m.meetingId).where('state', '=', 'redeemed').execute();
    expect(redeemed).toHaveLength(100);
  }, 60_000);
});
