import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { castPayload, type PhoneToken } from '../helpers/phone.ts';
import { LOW_LANE_MAX } from '../../server/credentials/voprf-pool.ts';
import { newMeetingKey } from '../../server/credentials/voprf.ts';

/**
 * The token check's lanes seen from the cast route, on the app's own worker pool (one worker here):
 * what a sender of forged tokens gets once the low lane is full, and what everyone else gets then.
 */
describe('a cast whose token check finds the low lane full', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ env: { VOPRF_WORKERS: '1' } });
  });
  afterEach(async () => {
    await t.close();
  });

  const castFrom = (token: PhoneToken, pkg: unknown, remoteAddress: string) =>
    t.app.inject({ method: 'POST', url: '/api/voter/cast', payload: castPayload(token, pkg as never), remoteAddress });
  const spent = async () => Number((await t.db.selectFrom('spent_tokens').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  it('is answered 429 「操作太频繁」 without spending the token; the hall\'s casts go on, and the refused token still counts', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3 });
    const pkg = fullPackage(m.form!);
    const forged = { ...m.tokens[0]!, input: randomBytes(32).toString('base64url') };
    // One forged token marks its sender: its next checks wait in the low lane.
    expect((await castFrom(forged, pkg, '10.0.0.66')).json().error.code).toBe('TOKEN_INVALID');

    // The low lane full at the moment a check is asked for: filled with evaluations of another key just
    // before the check enters the pool (synchronously, so the worker cannot take any in between).
    const pool = t.app.services.voprf;
    const tickets = t.app.services.tickets;
    const key = newMeetingKey();
    const filler: Promise<unknown>[] = [];
    const check = tickets.tokenIsValid.bind(tickets);
    tickets.tokenIsValid = (...args) => {
      while (pool.waiting.low < LOW_LANE_MAX) filler.push(pool.evaluate(key.secretKey, new Uint8Array(randomBytes(32)), 'low').catch(() => null));
      return check(...args);
    };

    // The marked sender's valid token: refused for now, in the words of a busy server, and not spent.
    const busy = await castFrom(m.tokens[1]!, pkg, '10.0.0.66');
    expect(busy.statusCode).toBe(429);
    expect(busy.json()).toEqual({ error: { code: 'RATE_LIMITED', message: '操作太频繁，请稍等片刻再试' } });
    expect(await spent()).toBe(0);
    // Another phone is checked in the normal lane, ahead of the whole low lane.
    const honest = await castFrom(m.tokens[2]!, pkg, '10.0.0.5');
    expect(honest.statusCode).toBe(200);
    expect(pool.waiting.low).toBeGreaterThan(0);
    expect(await spent()).toBe(1);
    // The refused token was not used up: sent again (from the hall's other address, so no wait) it counts.
    const again = await castFrom(m.tokens[1]!, pkg, '10.0.0.5');
    expect(again.statusCode).toBe(200);
    expect(again.json().alreadyRecorded).toBe(false);
    expect(await spent()).toBe(2);
    expect(filler.length).toBeGreaterThanOrEqual(LOW_LANE_MAX);
  });

  it('a token check that fails for another reason is a server error, not a request to wait', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const pkg = fullPackage(m.form!);
    await t.app.services.voprf.close();
    const res = await castFrom(m.tokens[0]!, pkg, '10.0.0.5');
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('INTERNAL');
    expect(await spent()).toBe(0);
  });
});
