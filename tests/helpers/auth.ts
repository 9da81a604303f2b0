import type { TestApp } from './harness.ts';

export const SETUP_USERNAME = 'admin';
export const TEST_PASSWORD = 'test-password-123';

export interface AdminSession {
  cookie: string;
  csrf: string;
  /** cookie + x-csrf-token + an Origin matching app.inject's default Host, ready for app.inject. */
  headers: Record<string, string>;
  adminId: number;
}

/** app.inject sends 'Host: localhost:80' unless told otherwise. */
const ORIGIN = 'http://localhost:80';

const generated = new WeakMap<TestApp, number>();

function sessionFrom(res: { statusCode: number; body: string; cookies: { name: string; value: string }[] }): AdminSession {
  if (res.statusCode !== 200 && res.statusCode !== 201) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'ceping_session');
  if (!cookie) throw new Error('no ceping_session cookie');
  const body = JSON.parse(res.body) as { admin: { id: number }; csrfToken: string };
  const cookieHeader = `ceping_session=${cookie.value}`;
  return {
    cookie: cookieHeader,
    csrf: body.csrfToken,
    headers: { cookie: cookieHeader, 'x-csrf-token': body.csrfToken, origin: ORIGIN },
    adminId: body.admin.id,
  };
}

export async function login(t: TestApp, username: string, password = TEST_PASSWORD): Promise<AdminSession> {
  const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  return sessionFrom(res);
}

/** The first township admin: created with the set-up code on a fresh app, signed in afterwards. */
export async function loginAsSetupAdmin(t: TestApp): Promise<AdminSession> {
  const state = await t.app.inject({ method: 'GET', url: '/api/auth/state' });
  if ((JSON.parse(state.body) as { needsSetup: boolean }).needsSetup) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: { code: t.setupCode, username: SETUP_USERNAME, displayName: '镇党委办公室', password: TEST_PASSWORD },
    });
    return sessionFrom(res);
  }
  return login(t, SETUP_USERNAME);
}

/**
 * Sign in as an admin of the given role (default township). Sets the app up on first use; any other
 * account is created through the API (an existing username is reused). Without a username a township
 * login is the set-up admin and an inspector gets a fresh name.
 */
export async function loginAs(
  t: TestApp,
  opts: { role?: 'township' | 'inspector'; username?: string } = {},
): Promise<AdminSession> {
  const role = opts.role ?? 'township';
  const root = await loginAsSetupAdmin(t);
  if (opts.username === undefined && role === 'township') return root;
  if (opts.username === SETUP_USERNAME) return root;

  let username = opts.username;
  if (username === undefined) {
    const n = (generated.get(t) ?? 0) + 1;
    generated.set(t, n);
    username = `${role}${n}`;
  }
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/admins',
    headers: root.headers,
    payload: { username, displayName: `测试${role === 'township' ? '镇' : '考察组'}账号 ${username}`, role, password: TEST_PASSWORD },
  });
  if (created.statusCode !== 201 && created.statusCode !== 409) {
    throw new Error(`creating ${username} failed: ${created.statusCode} ${created.body}`);
  }
  return login(t, username);
}
