/**
 * The k-step gate decided once, in the database, when two server processes write one meeting: two apps
 * (each its own pool, write queue and LISTEN connection, as two processes have) on one PostgreSQL
 * database take random bursts of casts, each ballot through either. Every step published anywhere is
 * seen by the windows of both, in the same order, and is at least k phone ballots after the one before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../server/app.ts';
import { openPostgresStore } from '../../server/db/database.ts';
import { makeTestApp } from '../helpers/harness.ts';
import { makeMeeting } from '../helpers/meeting.ts';
import { cast } from '../helpers/phone.ts';
import { fullPackage } from '../helpers/packages.ts';
import { subscribeLive } from '../helpers/live.ts';
import { pgInfo } from '../helpers/pg.ts';

const pg = await pgInfo();

describe.skipIf(!pg)('the live gate with two server processes on one database', () => {
  it('publishes one sequence of steps, the same on both, never two closer than k', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 5 }),
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 9 }), through: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }) }), { minLength: 4, maxLength: 12 }),
        async (k, bursts) => {
          const t = await makeTestApp({ env: { LOG_LEVEL: 'silent' }, backend: 'postgres' });
          const store = openPostgresStore(t.databaseUrl!);
          let other: App | null = null;
          try {
            other = await buildApp({ config: t.config, store, pepper: t.pepper, signingKey: t.signingKey, setupCode: null, version: 'test' });
            await other.ready();
            const m = await makeMeeting(t, { kind: 'station', roster: 40, signIn: 40, liveK: k });
            const apps = [t, { ...t, app: other }];
            const windows = await Promise.all(apps.map((x) => subscribeLive(x, m.meetingId, m.session)));
            let next = 0;
            for (const burst of bursts) {
              const group = m.tokens.slice(next, next + burst.size);
              next += group.length;
              const replies = await Promise.all(group.map((tok, i) => cast(apps[burst.through[i] ? 1 : 0]!, tok, fullPackage(m.form!, 1 + (i % 3)))));
              for (const r of replies) expect(r.statusCode, r.body).toBe(200);
            }
            // Every window ends on the same turnout, then the same steps.
            for (const w of windows) await w.waitFor((msgs) => msgs.some((x) => x.type === 'turnout' && x.turnout.returned === next), 5_000);
            const counts = windows.map((w) => w.snapshots().map((s) => s.count));
            expect(counts[0]).toEqual(counts[1]);
            for (let i = 1; i < counts[0]!.length; i++) expect(counts[0]![i]! - counts[0]![i - 1]!).toBeGreaterThanOrEqual(k);
            // Each step counts every ballot either process had committed: its parts hold as many valid ballots as its count.
            for (const s of windows[0]!.snapshots()) {
              for (const part of s.parts as { kind: string; valid: number }[]) if (part.kind === 'rating') expect(part.valid, `step at ${s.count}`).toBe(s.count);
            }
            // The stored step is the last one published.
            const row = await t.db.selectFrom('meetings').select('snapshot_count').where('id', '=', m.meetingId).executeTakeFirstOrThrow();
            expect(row.snapshot_count).toBe(counts[0]!.at(-1) ?? 0);
            for (const w of windows) w.close();
          } finally {
            await other?.close();
            await store.db.destroy();
            await t.close();
          }
        },
      ),
      { numRuns: 4 },
    );
  }, 600_000);
});
