/**
 * The per-meeting limit of POST /api/voter/meeting (6,000 a minute, every phone of a meeting polling with
 * the same access word) is not spent by requests with a wrong word: anyone on the hall Wi-Fi can count
 * meeting numbers, and before the fix 6,000 wrong-word requests locked every phone of the meeting out
 * for the rest of the minute (found by a black-box audit, over HTTP: 6,050 requests in 20 s, then 429).
 */
import { describe, expect, it } from 'vitest';
import { makeTestApp } from '../helpers/harness.ts';
import { makeMeeting } from '../helpers/meeting.ts';

describe('the per-meeting limit of /api/voter/meeting', () => {
  it('is not used up by requests that do not know the access word', async () => {
    const t = await makeTestApp({ env: { LOG_LEVEL: 'silent' } });
    try {
      const m = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 1, liveK: 3 });
      const phone = m.tokens[0]!;
      const ask = (access: string) => t.app.inject({ method: 'POST', url: '/api/voter/meeting', payload: { meetingId: m.meetingId, access, withForm: false } });
      const statuses: Record<number, number> = {};
      for (let sent = 0; sent < 6_010; sent += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => ask('not-the-access-word')));
        for (const r of batch) statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
      }
      expect(statuses[200] ?? 0).toBe(0);
      const honest = await ask(phone.access);
      // Observed on main: 429 RATE_LIMITED (x-ratelimit-remaining: 0) for the phone that holds the right word.
      expect(honest.statusCode, `${JSON.stringify(statuses)} then ${honest.body}`).toBe(200);
    } finally {
      await t.close();
    }
  }, 120_000);
});
