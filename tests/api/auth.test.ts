import Fastify, { type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/harness.ts';
import { freshApps, manualClock } from '../helpers/fresh.ts';
import { loginAs, login, loginAsSetupAdmin, SETUP_USERNAME, TEST_PASSWORD, type AdminSession } from '../helpers/auth.ts';
import { checkWebsocketOrigin, registerAuth, requireAdmin, type AdminPrincipal } from '../../server/auth/auth.guard.ts';
import { hashSecret } from '../../server/credentials/secrets.ts';
import { DomainError } from '../../server/errors.ts';
import { AuditEvent } from '../../server/audit/audit.events.ts';
import { listAudit } from '../../server/audit/audit.repository.ts';

const fresh = freshApps();

function errorCode(res: { body: string }): string | undefined {
  return (JSON.parse(res.body) as { error?: { code: string } }).error?.code;
}

function setupPayload(t: TestApp, overrides: Record<string, unknown> = {}) {
  return { code: t.setupCode, username: 'zhenwei', displayName: '镇党委办公室', password: TEST_PASSWORD, ...overrides };
}

async function insertMeeting(t: TestApp): Promise<number> {
  const now = new Date().toISOString();
  const campaign = await t.db
    .insertInto('campaigns')
    .values({ year: 2026, township: '测试镇', name: '2026年度民主测评', template_json: '{}', created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const unit = await t.db
    .insertInto('units')
    .values({ campaign_id: campaign.id, name: '东村', kind: 'village' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const meeting = await t.db.insertInto('meetings').values({ unit_id: unit.id, created_at: now }).returning('id').executeTakeFirstOrThrow();
  return meeting.id;
}

function principal(s: AdminSession, role: 'township' | 'inspector'): AdminPrincipal {
  return { id: s.adminId, username: '', displayName: '', role };
}

describe('first-admin set-up', () => {
  it('needs the set-up code, then refuses a second set-up', async () => {
    const t = await fresh();
    const state = await t.app.inject({ method: 'GET', url: '/api/auth/state' });
    expect(state.json()).toEqual({ needsSetup: true });

    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/setup', payload: setupPayload(t, { code: 'WRONGCODE1' }) });
    expect(wrong.statusCode).toBe(403);
    expect(errorCode(wrong)).toBe('SETUP_CODE');

    const weak = await t.app.inject({ method: 'POST', url: '/api/auth/setup', payload: setupPayload(t, { password: '1234567' }) });
    expect(weak.statusCode).toBe(400);
    expect(errorCode(weak)).toBe('PASSWORD_WEAK');
    expect(weak.json().error.message).toContain('8');

    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/setup', payload: setupPayload(t) });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ admin: { username: 'zhenwei', displayName: '镇党委办公室', role: 'township' }, csrfToken: expect.any(String) });
    expect(ok.cookies.find((c) => c.name === 'ceping_session')).toBeTruthy();

    expect((await t.app.inject({ method: 'GET', url: '/api/auth/state' })).json()).toEqual({ needsSetup: false });

    const again = await t.app.inject({ method: 'POST', url: '/api/auth/setup', payload: setupPayload(t, { username: 'second' }) });
    expect(again.statusCode).toBe(409);
    expect(errorCode(again)).toBe('SETUP_DONE');
    const admins = await t.db.selectFrom('admins').select(['username', 'role']).execute();
    expect(admins).toEqual([{ username: 'zhenwei', role: 'township' }]);
  });

  it('the session from set-up works like a login', async () => {
    const t = await fresh();
    const s = await loginAsSetupAdmin(t);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s.cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ admin: { id: s.adminId, username: SETUP_USERNAME, displayName: '镇党委办公室', role: 'township' }, csrfToken: s.csrf });
  });
});

describe('login and sessions', () => {
  it('accepts the right password and refuses a wrong one or an unknown name alike', async () => {
    const t = await fresh();
    await loginAsSetupAdmin(t);

    const bad = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: SETUP_USERNAME, password: 'wrong-password' } });
    expect(bad.statusCode).toBe(401);
    expect(errorCode(bad)).toBe('BAD_LOGIN');
    expect(bad.headers['set-cookie']).toBeUndefined();

    const unknown = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody', password: TEST_PASSWORD } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual(bad.json());

    // Usernames compare without case (and full-width letters fold), passwords do not.
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'ＡＤＭＩＮ', password: TEST_PASSWORD } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ admin: { username: SETUP_USERNAME, role: 'township' }, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  });

  it('makes a hash with older parameters (p = 1, before 11-30) again at the next good login, and the new one works', async () => {
    const t = await fresh();
    await loginAsSetupAdmin(t);
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.alloc(16, 3);
    const old = ['scrypt', 12, 8, 1, salt.toString('base64'), scryptSync(TEST_PASSWORD, salt, 32, { N: 2 ** 12, r: 8, p: 1 }).toString('base64')].join('$');
    await t.db.updateTable('admins').set({ password_hash: old }).where('username', '=', SETUP_USERNAME).execute();
    const hash = async () => (await t.db.selectFrom('admins').select('password_hash').where('username', '=', SETUP_USERNAME).executeTakeFirstOrThrow()).password_hash;

    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: SETUP_USERNAME, password: 'wrong-password' } });
    expect(wrong.statusCode).toBe(401);
    expect(await hash()).toBe(old);
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: SETUP_USERNAME, password: TEST_PASSWORD } });
    expect(ok.statusCode).toBe(200);
    expect(await hash()).toMatch(/^scrypt\$12\$8\$2\$/);
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: SETUP_USERNAME, password: TEST_PASSWORD } });
    expect(again.statusCode).toBe(200);
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/ and without Secure over http', async () => {
    const t = await fresh();
    await loginAsSetupAdmin(t);
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: SETUP_USERNAME, password: TEST_PASSWORD } });
    const raw = String(res.headers['set-cookie']);
    expect(raw).toMatch(/^ceping_session=[A-Za-z0-9_-]{43};/);
    expect(raw).toMatch(/; HttpOnly/);
    expect(raw).toMatch(/; SameSite=Strict/);
    expect(raw).toMatch(/; Path=\//);
    expect(raw).not.toMatch(/Secure/i);
    const cookie = res.cookies.find((c) => c.name === 'ceping_session')!;
    expect(cookie.expires!.getTime() - Date.now()).toBeGreaterThan((t.config.SESSION_HOURS - 1) * 3600_000);
  });

  it('/me returns the admin and the CSRF token to a reloaded page, 401 without a session', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s.cookie } });
    expect(me.json().csrfToken).toBe(s.csrf);
    const none = await t.app.inject({ method: 'GET', url: '/api/auth/me' });
    expect(none.statusCode).toBe(401);
    expect(errorCode(none)).toBe('UNAUTHENTICATED');
    const forged = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: `ceping_session=${'A'.repeat(43)}` } });
    expect(forged.statusCode).toBe(401);
  });

  it('logout needs the CSRF token, revokes the session and clears the cookie', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const noCsrf = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: s.cookie } });
    expect(noCsrf.statusCode).toBe(403);
    expect(errorCode(noCsrf)).toBe('CSRF');

    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: s.headers });
    expect(out.statusCode).toBe(204);
    const cleared = String(out.headers['set-cookie']);
    expect(cleared).toMatch(/^ceping_session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);

    const after = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s.cookie } });
    expect(after.statusCode).toBe(401);
    expect(await t.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
  });

  it('a session expires after SESSION_HOURS', async () => {
    const clock = manualClock();
    const t = await fresh({ now: clock.now });
    const s = await loginAs(t);
    clock.advance((t.config.SESSION_HOURS - 1) * 3600_000);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(200);
    clock.advance(3600_000);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(401);
  });

  it('stores only a keyed hash of the session token', async () => {
    const t = await fresh();
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/setup', payload: setupPayload(t) });
    const token = res.cookies.find((c) => c.name === 'ceping_session')!.value;
    const rows = await t.db.selectFrom('sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).toBe(hashSecret(t.pepper, 'session', token));
    expect(JSON.stringify(rows)).not.toContain(token);
    // Nor anywhere else in the database file (SQLite; on PostgreSQL the rows above are all there is to read).
    if (t.backend === 'sqlite') {
      t.sqlite.pragma('wal_checkpoint(TRUNCATE)');
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(t.file).includes(Buffer.from(token))).toBe(false);
    }
  });

  it('stores the password as scrypt with the configured cost', async () => {
    const t = await fresh();
    await loginAsSetupAdmin(t);
    const row = await t.db.selectFrom('admins').select('password_hash').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$12\$8\$2\$[^$]+\$[^$]+$/);
    expect(row.password_hash).not.toContain(TEST_PASSWORD);
  });
  // The brakes on wrong passwords are tested in login-brake.test.ts.
});

describe('CSRF and roles', () => {
  it('refuses a POST without or with a wrong x-csrf-token', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const payload = { username: 'lisi', displayName: '李四', role: 'inspector', password: TEST_PASSWORD };

    const missing = await t.app.inject({ method: 'POST', url: '/api/admins', headers: { cookie: s.cookie }, payload });
    expect(missing.statusCode).toBe(403);
    expect(errorCode(missing)).toBe('CSRF');

    const wrong = await t.app.inject({ method: 'POST', url: '/api/admins', headers: { ...s.headers, 'x-csrf-token': 'x'.repeat(43) }, payload });
    expect(wrong.statusCode).toBe(403);
    expect(errorCode(wrong)).toBe('CSRF');

    // Another session's token is not this session's token.
    const other = await login(t, SETUP_USERNAME);
    const crossed = await t.app.inject({ method: 'POST', url: '/api/admins', headers: { ...s.headers, 'x-csrf-token': other.csrf }, payload });
    expect(crossed.statusCode).toBe(403);

    const ok = await t.app.inject({ method: 'POST', url: '/api/admins', headers: s.headers, payload });
    expect(ok.statusCode).toBe(201);
  });

  it('keeps an inspector off township routes', async () => {
    const t = await fresh();
    const meetingId = await insertMeeting(t);
    const insp = await loginAs(t, { role: 'inspector' });

    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: insp.headers });
    expect(me.json().admin.role).toBe('inspector');

    for (const req of [
      { method: 'GET' as const, url: '/api/admins' },
      { method: 'POST' as const, url: '/api/admins', payload: { username: 'x1', displayName: 'x', role: 'township', password: TEST_PASSWORD } },
      { method: 'PATCH' as const, url: `/api/admins/${insp.adminId}`, payload: { displayName: '改名' } },
      { method: 'GET' as const, url: `/api/meetings/${meetingId}/assignments` },
      { method: 'POST' as const, url: `/api/meetings/${meetingId}/assignments`, payload: { adminId: insp.adminId } },
      { method: 'DELETE' as const, url: `/api/meetings/${meetingId}/assignments/${insp.adminId}` },
    ]) {
      const res = await t.app.inject({ ...req, headers: insp.headers });
      expect(res.statusCode, `${req.method} ${req.url}`).toBe(403);
      expect(errorCode(res)).toBe('FORBIDDEN');
    }
    expect(await t.db.selectFrom('admins').select('username').where('username', '=', 'x1').execute()).toHaveLength(0);
  });

  it("requireAdmin('inspector') admits both roles; requireAdmin('township') only township; GET needs no CSRF token", async () => {
    const sessions: Record<string, AdminPrincipal & { csrfToken: string }> = {
      [`t${'0'.repeat(42)}`]: { id: 1, username: 'town', displayName: '镇', role: 'township', csrfToken: 'csrf-town' },
      [`i${'0'.repeat(42)}`]: { id: 2, username: 'insp', displayName: '组', role: 'inspector', csrfToken: 'csrf-insp' },
    };
    const app = Fastify();
    app.decorate('services', { auth: { authenticate: async (token: string) => sessions[token] ?? null } } as never);
    app.setErrorHandler((err, _req, reply) =>
      reply.status(err instanceof DomainError ? err.status : 500).send({ code: err instanceof DomainError ? err.code : 'X' }),
    );
    await app.register(fastifyCookie);
    registerAuth(app);
    app.get('/insp', { preHandler: requireAdmin('inspector') }, async (req) => ({ role: req.admin?.role }));
    app.get('/town', { preHandler: requireAdmin('township') }, async (req) => ({ role: req.admin?.role }));
    app.post('/town', { preHandler: requireAdmin('township') }, async (req) => ({ role: req.admin?.role }));
    app.get('/open', async (req) => ({ admin: req.admin }));
    await app.ready();
    try {
      const call = (method: 'GET' | 'POST', url: string, who?: 't' | 'i', csrf?: string) =>
        app.inject({
          method,
          url,
          headers: { ...(who ? { cookie: `ceping_session=${who}${'0'.repeat(42)}` } : {}), ...(csrf ? { 'x-csrf-token': csrf } : {}) },
        });
      expect((await call('GET', '/open')).json()).toEqual({ admin: null });
      expect((await call('GET', '/insp', 't')).json()).toEqual({ role: 'township' });
      expect((await call('GET', '/insp', 'i')).json()).toEqual({ role: 'inspector' });
      expect((await call('GET', '/insp')).statusCode).toBe(401);
      expect((await call('GET', '/town', 't')).statusCode).toBe(200);
      expect((await call('GET', '/town', 'i')).json()).toEqual({ code: 'FORBIDDEN' });
      expect((await call('POST', '/town', 't')).json()).toEqual({ code: 'CSRF' });
      expect((await call('POST', '/town', 't', 'csrf-insp')).json()).toEqual({ code: 'CSRF' });
      expect((await call('POST', '/town', 't', 'csrf-town')).json()).toEqual({ role: 'township' });
    } finally {
      await app.close();
    }
  });

  it('checkWebsocketOrigin wants an Origin naming the Host', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;
    expect(checkWebsocketOrigin(req({ host: '192.0.2.10:8080', origin: 'http://192.0.2.10:8080' }))).toBe(true);
    expect(checkWebsocketOrigin(req({ host: 'localhost:80', origin: 'http://localhost' }))).toBe(true);
    expect(checkWebsocketOrigin(req({ host: 'ceping.lan', origin: 'https://ceping.lan' }))).toBe(true);
    expect(checkWebsocketOrigin(req({ host: '192.0.2.10:8080' }))).toBe(false);
    expect(checkWebsocketOrigin(req({ host: '192.0.2.10:8080', origin: 'http://evil.example' }))).toBe(false);
    expect(checkWebsocketOrigin(req({ host: '192.0.2.10:8080', origin: 'http://192.0.2.10:9090' }))).toBe(false);
    expect(checkWebsocketOrigin(req({ host: '192.0.2.10:8080', origin: 'null' }))).toBe(false);
    expect(checkWebsocketOrigin(req({ host: 'evil.example@192.0.2.10:8080', origin: 'http://192.0.2.10:8080' }))).toBe(false);
    expect(checkWebsocketOrigin(req({ origin: 'http://192.0.2.10:8080' }))).toBe(false);
  });
});

describe('accounts', () => {
  it('creates, lists and refuses a taken username or a short password', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/admins',
      headers: s.headers,
      payload: { username: 'Wangwu', displayName: '王五（第一考察组）', role: 'inspector', password: TEST_PASSWORD },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ username: 'wangwu', role: 'inspector', disabled: false });

    const taken = await t.app.inject({
      method: 'POST',
      url: '/api/admins',
      headers: s.headers,
      payload: { username: 'WANGWU', displayName: '另一个', role: 'township', password: TEST_PASSWORD },
    });
    expect(taken.statusCode).toBe(409);
    expect(errorCode(taken)).toBe('USERNAME_TAKEN');

    const weak = await t.app.inject({
      method: 'POST',
      url: '/api/admins',
      headers: s.headers,
      payload: { username: 'zhao', displayName: '赵', role: 'inspector', password: 'short' },
    });
    expect(errorCode(weak)).toBe('PASSWORD_WEAK');

    const list = await t.app.inject({ method: 'GET', url: '/api/admins', headers: s.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json().admins.map((a: { username: string }) => a.username)).toEqual([SETUP_USERNAME, 'wangwu']);
    expect(list.body).not.toContain('scrypt');
  });

  it('disabling an account ends its sessions and blocks its login; no one disables themselves', async () => {
    const t = await fresh();
    const town = await loginAs(t);
    const insp = await loginAs(t, { role: 'inspector', username: 'kaocha' });

    const self = await t.app.inject({ method: 'PATCH', url: `/api/admins/${town.adminId}`, headers: town.headers, payload: { disabled: true } });
    expect(self.statusCode).toBe(409);
    expect(errorCode(self)).toBe('CANNOT_DISABLE_SELF');

    const off = await t.app.inject({ method: 'PATCH', url: `/api/admins/${insp.adminId}`, headers: town.headers, payload: { disabled: true } });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ id: insp.adminId, disabled: true });
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: insp.headers })).statusCode).toBe(401);
    const relogin = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'kaocha', password: TEST_PASSWORD } });
    expect(relogin.statusCode).toBe(403);
    expect(errorCode(relogin)).toBe('ACCOUNT_DISABLED');

    await t.app.inject({ method: 'PATCH', url: `/api/admins/${insp.adminId}`, headers: town.headers, payload: { disabled: false } });
    expect((await login(t, 'kaocha')).adminId).toBe(insp.adminId);

    const missing = await t.app.inject({ method: 'PATCH', url: '/api/admins/999', headers: town.headers, payload: { displayName: '无' } });
    expect(missing.statusCode).toBe(404);
    const empty = await t.app.inject({ method: 'PATCH', url: `/api/admins/${insp.adminId}`, headers: town.headers, payload: {} });
    expect(empty.statusCode).toBe(400);
  });

  it('a password reset replaces the password and ends the other admin’s sessions', async () => {
    const t = await fresh();
    const town = await loginAs(t);
    const insp = await loginAs(t, { role: 'inspector', username: 'kaocha' });
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/admins/${insp.adminId}`,
      headers: town.headers,
      payload: { password: 'brand-new-pass', displayName: '考察组甲' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().displayName).toBe('考察组甲');
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: insp.headers })).statusCode).toBe(401);
    const old = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'kaocha', password: TEST_PASSWORD } });
    expect(old.statusCode).toBe(401);
    expect((await login(t, 'kaocha', 'brand-new-pass')).adminId).toBe(insp.adminId);
  });
});

describe('meeting assignments', () => {
  it('an inspector may access a meeting only while assigned to it; township always', async () => {
    const t = await fresh();
    const meetingId = await insertMeeting(t);
    const otherMeetingId = await insertMeeting(t);
    const town = await loginAs(t);
    const insp = await loginAs(t, { role: 'inspector' });
    const auth = t.app.services.auth;

    expect(await auth.canAccessMeeting(principal(town, 'township'), meetingId)).toBe(true);
    expect(await auth.canAccessMeeting(principal(insp, 'inspector'), meetingId)).toBe(false);
    await expect(auth.assertMeetingAccess(principal(insp, 'inspector'), meetingId)).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const assigned = await t.app.inject({
      method: 'POST',
      url: `/api/meetings/${meetingId}/assignments`,
      headers: town.headers,
      payload: { adminId: insp.adminId },
    });
    expect(assigned.statusCode).toBe(201);
    expect(assigned.json().assignments).toEqual([
      { adminId: insp.adminId, username: 'inspector1', displayName: expect.any(String), disabled: false },
    ]);
    expect(await auth.canAccessMeeting(principal(insp, 'inspector'), meetingId)).toBe(true);
    expect(await auth.canAccessMeeting(principal(insp, 'inspector'), otherMeetingId)).toBe(false);
    expect(await auth.meetingScope(principal(insp, 'inspector'))).toEqual({ all: false, meetingIds: [meetingId] });

    const list = await t.app.inject({ method: 'GET', url: `/api/meetings/${meetingId}/assignments`, headers: town.headers });
    expect(list.json().assignments).toHaveLength(1);

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/meetings/${meetingId}/assignments/${insp.adminId}`,
      headers: town.headers,
    });
    expect(removed.statusCode).toBe(204);
    expect(await auth.canAccessMeeting(principal(insp, 'inspector'), meetingId)).toBe(false);
  });

  it('assigns only inspectors, and assigns or unassigns only at meetings that exist', async () => {
    const t = await fresh();
    const meetingId = await insertMeeting(t);
    const town = await loginAs(t);
    const township2 = await loginAs(t, { role: 'township', username: 'zhenwei2' });
    const toTownship = await t.app.inject({
      method: 'POST',
      url: `/api/meetings/${meetingId}/assignments`,
      headers: town.headers,
      payload: { adminId: township2.adminId },
    });
    expect(toTownship.statusCode).toBe(400);
    expect(errorCode(toTownship)).toBe('NOT_INSPECTOR');
    const noMeeting = await t.app.inject({ method: 'GET', url: '/api/meetings/999/assignments', headers: town.headers });
    expect(noMeeting.statusCode).toBe(404);
    // Removing from a meeting that does not exist is 404 too (not a 204 that says it worked).
    const unassignNoMeeting = await t.app.inject({ method: 'DELETE', url: '/api/meetings/999/assignments/999', headers: town.headers });
    expect(unassignNoMeeting.statusCode).toBe(404);
    expect(errorCode(unassignNoMeeting)).toBe('NOT_FOUND');
    // At a meeting that exists, removing an assignment that is not there still answers 204 (the wanted state holds).
    const notAssigned = await t.app.inject({ method: 'DELETE', url: `/api/meetings/${meetingId}/assignments/999`, headers: town.headers });
    expect(notAssigned.statusCode).toBe(204);
  });
});

describe('audit and logs', () => {
  it('audits set-up, logins, failed logins, logout, accounts and assignments, never a password', async () => {
    const t = await fresh();
    const meetingId = await insertMeeting(t);
    const town = await loginAs(t);
    const insp = await loginAs(t, { role: 'inspector', username: 'kaocha' });
    await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'kaocha', password: 'not-the-password' } });
    await t.app.inject({ method: 'PATCH', url: `/api/admins/${insp.adminId}`, headers: town.headers, payload: { password: 'reset-password-1' } });
    await t.app.inject({ method: 'POST', url: `/api/meetings/${meetingId}/assignments`, headers: town.headers, payload: { adminId: insp.adminId } });
    await t.app.inject({ method: 'DELETE', url: `/api/meetings/${meetingId}/assignments/${insp.adminId}`, headers: town.headers });
    await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: town.headers });

    const entries = await listAudit(t.db);
    const events = entries.map((e) => e.event);
    for (const event of [
      AuditEvent.ADMIN_SETUP,
      AuditEvent.ADMIN_LOGIN,
      AuditEvent.ADMIN_LOGIN_FAILED,
      AuditEvent.ADMIN_LOGOUT,
      AuditEvent.ADMIN_CREATED,
      AuditEvent.ADMIN_UPDATED,
      AuditEvent.MEETING_ASSIGNED,
      AuditEvent.MEETING_UNASSIGNED,
    ]) {
      expect(events, event).toContain(event);
    }
    const failed = entries.find((e) => e.event === AuditEvent.ADMIN_LOGIN_FAILED)!;
    expect(failed.detail).toEqual({ username: 'kaocha' });
    expect(failed.actor).toBeNull();
    expect(entries.find((e) => e.event === AuditEvent.ADMIN_UPDATED)!.detail).toMatchObject({ adminId: insp.adminId, changed: ['password'] });
    expect(entries.find((e) => e.event === AuditEvent.MEETING_ASSIGNED)!.meetingId).toBe(meetingId);
    expect(entries.find((e) => e.event === AuditEvent.ADMIN_LOGOUT)!.actor).toBe('镇党委办公室');

    const all = JSON.stringify(entries);
    for (const secret of [TEST_PASSWORD, 'not-the-password', 'reset-password-1', t.setupCode, town.csrf, town.cookie.split('=')[1]!]) {
      expect(all).not.toContain(secret);
    }
  });

  it('writes no password, set-up code or token into the logs', async () => {
    const t = await fresh();
    const town = await loginAs(t);
    const insp = await loginAs(t, { role: 'inspector' });
    await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'inspector1', password: 'wrong-password-9' } });
    await t.app.inject({ method: 'POST', url: '/api/auth/setup', payload: setupPayload(t) });
    await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: insp.headers });
    await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: town.headers });

    const logs = t.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      TEST_PASSWORD,
      'wrong-password-9',
      t.setupCode,
      town.csrf,
      insp.csrf,
      town.cookie.split('=')[1]!,
      insp.cookie.split('=')[1]!,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
