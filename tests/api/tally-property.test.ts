/**
 * Property (issue 2): any sequence of valid packages — phone ballots, and paper ballots entered with
 * blank subjects, void parts and over-quota parts — cast through the API and closed, gives results equal
 * to an independent recount of the ballots stored in the database (the SQLite file, or PostgreSQL in the `pg`
 * project), and to a recount of what was sent.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, openReader } from '../helpers/harness.ts';
import { testBackend } from '../helpers/pg.ts';
import { loginAs } from '../helpers/auth.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { countsOfResults, normalizeSent, recountStored } from '../helpers/recount.ts';
import { arbPackage, arbPaperPackage } from '../factories/forms.ts';
import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';
import type { Results } from '../../server/counting/tally.ts';
import { cast } from '../helpers/phone.ts';
import { calculatorPercent } from '../helpers/oracle.ts';

type Cast = { source: 'phone' | 'paper'; pkg: BallotPackage };

const MEETING = { kind: 'station' as const, members: 5, candidates: 3 };

describe('results equal an independent recount', () => {
  /** The form every meeting below gets (same template, same team, same candidates). */
  let form: Form;

  beforeAll(async () => {
    const t = await makeTestApp();
    try {
      const m = await makeMeeting(t, { ...MEETING, roster: 1, signIn: 1 });
      form = m.form!;
    } finally {
      await t.close();
    }
  });

  it('for any sequence of phone and paper packages', async () => {
    const arbCasts = fc.array(
      fc.oneof(
        { weight: 3, arbitrary: arbPackage(form).map((pkg): Cast => ({ source: 'phone', pkg })) },
        { weight: 1, arbitrary: arbPaperPackage(form).map((pkg): Cast => ({ source: 'paper', pkg })) },
      ),
      { minLength: 1, maxLength: 30 },
    );

    await fc.assert(
      fc.asyncProperty(arbCasts, async (casts) => {
        const t = await makeTestApp();
        try {
          const phones = casts.filter((c) => c.source === 'phone').length;
          const papers = casts.length - phones;
          // A station: quorum is every roster entry, and everyone signs in (QR first, then paper forms).
          const m = await makeMeeting(t, { ...MEETING, roster: casts.length, signIn: phones, paperSignIns: papers, session: await loginAs(t) });
          // Paper packages are typed by one member and count only once a second one confirms them.
          const checker = papers > 0 ? await loginAs(t, { role: 'township', username: 'checker' }) : null;
          const { form_json: frozen } = await t.db.selectFrom('meetings').select('form_json').where('id', '=', m.meetingId).executeTakeFirstOrThrow();
          expect(JSON.parse(frozen ?? 'null')).toEqual(form);

          let token = 0;
          for (const c of casts) {
            if (c.source === 'phone') {
              const res = await cast(t, m.tokens[token++]!, c.pkg);
              expect(res.statusCode, `phone ${JSON.stringify(c.pkg)} → ${res.body}`).toBe(200);
            } else {
              const res = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots`, headers: m.session.headers, payload: { package: c.pkg } });
              expect(res.statusCode, `paper ${JSON.stringify(c.pkg)} → ${res.body}`).toBe(201);
              const { pendingId } = res.json() as { pendingId: string };
              const ok = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, headers: checker!.headers, payload: {} });
              expect(ok.statusCode, ok.body).toBeLessThan(300);
            }
          }
          await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
          const results = await call<Results>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);

          // The stored ballots, read from the database (the file, or PostgreSQL) through a connection of its own.
          const ro = openReader(t);
          let stored: { package_json: string }[];
          try {
            // A slot is the package's JSON padded with zero bytes to the meeting's fixed size.
            stored = (await ro.selectFrom('ballots').select('body').where('meeting_id', '=', m.meetingId).where('filled', '=', 1).execute())
              .map(({ body }) => Buffer.from(body as Uint8Array))
              .map((b) => ({ package_json: b.subarray(0, b.includes(0) ? b.indexOf(0) : b.length).toString('utf8') }));
          } finally {
            await ro.destroy();
          }
          expect(stored).toHaveLength(casts.length);
          expect(results.turnout.paper).toBe(papers);

          const fromStored = recountStored(form, stored.map((b) => JSON.parse(b.package_json) as unknown));
          const fromSent = recountStored(form, casts.map((c) => normalizeSent(form, c.pkg)));
          const fromServer = countsOfResults(results.parts);
          expect(fromServer).toEqual(fromStored);
          expect(fromServer).toEqual(fromSent);
          // Whole ballots: valid when no part of it is void (其中有效票).
          const sentVoid = casts.filter((c) => Object.values(normalizeSent(form, c.pkg)).some((a) => (a as { void?: boolean }).void === true)).length;
          const storedVoid = stored.filter((b) => Object.values(JSON.parse(b.package_json) as object).some((a) => (a as { void?: boolean }).void === true)).length;
          expect(storedVoid).toBe(sentVoid);
          expect(results.ballots).toEqual({ valid: casts.length - sentVoid, void: sentVoid });

          const n = casts.length;
          expect(results.turnout).toMatchObject({ expected: n, present: n, issued: n, returned: n });
          for (const p of results.parts) {
            expect(p.valid + p.void, `part ${p.key}`).toBe(n);
            if (p.kind !== 'rating' || p.valid === 0) continue;
            for (const row of p.rows) {
              // Every printed share is its own ratio rounded half up (a row need not add up to 100.0%).
              row.counts.forEach((c, i) => expect(row.shares[i]!.text, `${p.key} ${row.subject.key}`).toBe(calculatorPercent(c, p.valid)));
              expect(row.abstainShare.text).toBe(calculatorPercent(row.abstain, p.valid));
            }
          }
        } finally {
          await t.close();
        }
      }),
      // Fewer on PostgreSQL (the `pg` project), for the suite's time: each run is a meeting of its own.
      { numRuns: testBackend === 'postgres' ? 8 : 15 },
    );
  }, 120_000);
});
