import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/harness.ts';
import { freshApps } from '../helpers/fresh.ts';
import { loginAs } from '../helpers/auth.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { contentSecurityPolicy } from '../../server/csp.ts';

const fresh = freshApps();

const HAN = /[\u4e00-\u9fff]/;

/** The one error shape: { error: { code, message } } with Chinese words, and nothing of the request in it. */
function expectError(res: { statusCode: number; body: string; headers: Record<string, unknown> }, status: number, code: string, notContaining: string[] = []) {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(HAN);
  for (const s of notContaining) expect(res.body).not.toContain(s);
  return body.error;
}

describe('every refusal has one shape, in Chinese, and repeats nothing of the request', () => {
  it('a malformed URL, and an over-long id', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    expectError(await t.app.inject({ method: 'GET', url: '/api/meetings/%', headers: s.headers }), 400, 'BAD_URL', ['%']);
    expectError(await t.app.inject({ method: 'GET', url: '/api/meetings/%E0%A4%A', headers: s.headers }), 400, 'BAD_URL', ['E0']);
    const long = '7'.repeat(9000);
    expectError(await t.app.inject({ method: 'GET', url: `/api/meetings/${long}`, headers: s.headers }), 400, 'BAD_ID', ['7777777']);
    const unknown = await t.app.inject({ method: 'GET', url: '/api/no-such-thing-<b>', headers: s.headers });
    expectError(unknown, 404, 'NOT_FOUND', ['<b>', 'no-such']);
  });

  it('ids in paths are strict positive integers', async () => {
    const t = await fresh();
    const m = await makeMeeting(t, { roster: 3, signIn: 0, open: false });
    const ok = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}`, headers: m.session.headers });
    expect(ok.statusCode).toBe(200);
    for (const bad of ['0x1', '+1', '%201', '1e2', '0', '01', '-1', '1.0', '1%20', '99999999999999999', 'abc']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/meetings/${bad}`, headers: m.session.headers });
      expectError(res, 400, 'BAD_ID', [bad === '0' ? '\u0000' : bad]);
    }
    expectError(await t.app.inject({ method: 'GET', url: `/api/units/0x${m.unitId}`, headers: m.session.headers }), 400, 'BAD_ID');
    expectError(
      await t.app.inject({ method: 'DELETE', url: `/api/meetings/${m.meetingId}/roster/+1`, headers: m.session.headers }),
      400,
      'BAD_ID',
    );
  });

  it('a body too large, the wrong content type, broken JSON and a poisoned prototype', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const big = JSON.stringify({ year: 2020, township: 'x'.repeat(3 * 1024 * 1024) });
    const tooLarge = expectError(await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: { ...s.headers, 'content-type': 'application/json' }, payload: big }), 413, 'BODY_TOO_LARGE', ['xxxx']);
    expect(tooLarge.message).toContain('2 MB');
    expectError(
      await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: { ...s.headers, 'content-type': 'text/plain' }, payload: 'year=2020&evil=<script>' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      ['<script>', 'text/plain'],
    );
    expectError(
      await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: { ...s.headers, 'content-type': 'application/json' }, payload: '{"year": 2020, "township": "<i>' }),
      400,
      'BAD_JSON',
      ['<i>', 'position', 'Unexpected'],
    );
    expectError(
      await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: { ...s.headers, 'content-type': 'application/json' }, payload: '{"year":2020,"township":"x","__proto__":{"admin":true}}' }),
      400,
      'BAD_JSON',
      ['__proto__'],
    );
  });

  it('a U+0000 in any text is refused (PostgreSQL cannot store one): in a body, a login, a query; a file loses it from its cells', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const json = { ...s.headers, 'content-type': 'application/json' };
    expectError(await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: json, payload: '{"year":2020,"township":"插\\u0000旗镇"}' }), 400, 'TEXT_NUL', ['插']);
    expectError(await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'zhen\u0000wei', password: 'x' } }), 400, 'TEXT_NUL', ['zhen']);
    expectError(await t.app.inject({ method: 'GET', url: '/api/campaigns?year=20%0020', headers: s.headers }), 400, 'TEXT_NUL');
    // The six characters \u0000 (an escaped backslash before them) are text like any other.
    const literal = await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: json, payload: '{"year":2020,"township":"插旗镇\\\\u0000"}' });
    expect(literal.statusCode, literal.body).toBe(201);
    expect(literal.json().township).toBe('插旗镇\\u0000');
    // A CSV whose name cell holds one (a broken export): read without it, and stored.
    const m = await makeMeeting(t, { roster: 1, signIn: 0, open: false, session: s });
    const csv = Buffer.from('姓名,类别,备注\n张\u0000三,党员,\n李四,群众,\n王五,群众,\n', 'utf8');
    const imported = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/roster/import`, headers: s.headers, payload: { filename: '签到表.csv', dataBase64: csv.toString('base64'), commit: true } });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json(), imported.body).toMatchObject({ rows: [{ name: '张三' }, { name: '李四' }, { name: '王五' }], committed: true });
    const roster = await call<{ entries: { name: string }[] }>(t, s, 'GET', `/api/meetings/${m.meetingId}/roster`);
    expect(roster.entries.map((e) => e.name)).toContain('张三');
  });

  it('a lone surrogate in admin-entered text is refused as VALIDATION naming the field (it was stored as U+FFFD); a pair is text', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const json = { ...s.headers, 'content-type': 'application/json' };
    const m = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 0, open: false, session: s });
    const roster = `/api/meetings/${m.meetingId}/roster`;
    const before = (await call<{ entries: unknown[] }>(t, s, 'GET', roster)).entries.length;
    for (const [payload, field] of [
      ['{"name":"\\ud800张","category":"干部职工"}', '/name'],
      ['{"name":"张三","category":"干部\\udfff职工"}', '/category'],
      ['{"name":"张三","category":"干部职工","note":"\\\\\\udbff"}', '/note'],
    ] as const) {
      const e = expectError(await t.app.inject({ method: 'POST', url: roster, headers: json, payload }), 400, 'VALIDATION', ['张', 'ud']);
      expect(e.message).toBe(`提交的文字中含有残缺的字符（不成对的代理项，多由复制粘贴或输入法造成），请删去后重新输入（${field}）`);
      expect((e as { details?: unknown }).details).toEqual({ fields: [field] });
    }
    // In a key the request made up: the path says no more than the API defines.
    const key = expectError(await t.app.inject({ method: 'POST', url: roster, headers: json, payload: '{"name":"张三","category":"干部职工","x\\udc00":1}' }), 400, 'VALIDATION');
    expect(key.message).toMatch(/（\/…）$/);
    expect((await call<{ entries: unknown[] }>(t, s, 'GET', roster)).entries.length).toBe(before);
    // A pair (\ud83d\ude00) is one character, and an escaped backslash before "ud800" is six plain ones.
    const pair = await t.app.inject({ method: 'POST', url: roster, headers: json, payload: '{"name":"张\\ud83d\\ude00","category":"干部职工","note":"\\\\ud800"}' });
    expect(pair.statusCode, pair.body).toBe(201);
    expect(pair.json()).toMatchObject({ name: '张\u{1f600}', note: '\\ud800' });
  });

  it('a validation error names only fields the API defines, never a key or value the request made up', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const res = await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: s.headers, payload: { year: 'MMXX<svg>', township: '' } });
    const e = expectError(res, 400, 'VALIDATION', ['MMXX', '<svg>']);
    expect(e.message).toContain('/year');
    expect(e.message).toContain('/township');

    const m = await makeMeeting(t, { roster: 3, signIn: 0, open: false, session: s });
    // A record keyed by the request: the key comes back as '…', not as sent.
    const paper = await t.app.inject({
      method: 'POST',
      url: `/api/meetings/${m.meetingId}/paper-ballots`,
      headers: s.headers,
      payload: { package: { A: { grades: { evilKeyName12: 'x'.repeat(41) } } } },
    });
    expectError(paper, 400, 'VALIDATION', ['evilKeyName12', 'xxxxxxxx']);
  });

  it('JSON with no body is an empty body where the body is optional, and a validation error where it is not', async () => {
    const t = await fresh();
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, open: false });
    const json = { ...m.session.headers, 'content-type': 'application/json' };
    // open-voting's body is optional (an override reason only when the quorum is not met).
    const opened = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/open-voting`, headers: json, payload: '' });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json().state).toBe('voting');
    const closed = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/close-voting`, headers: json, payload: '   ' });
    expect(closed.statusCode, closed.body).toBe(200);
    // No content type and no body at all, the same.
    const check = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/open-voting/check`, headers: m.session.headers });
    expect(check.statusCode, check.body).toBe(200);
    // A route whose body has required fields still refuses an empty one.
    expectError(await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: json, payload: '' }), 400, 'VALIDATION');
  });

  it('an empty or unknown-keys-only PATCH says nothing was changed, and changes nothing', async () => {
    const t = await fresh();
    const m = await makeMeeting(t, { roster: 3, signIn: 0, open: false });
    const h = m.session.headers;
    const auditBefore = (await t.db.selectFrom('audit_log').select('id').execute()).length;
    for (const url of [`/api/units/${m.unitId}`, `/api/meetings/${m.meetingId}`, `/api/admins/${m.session.adminId}`]) {
      for (const payload of [{}, { nonsense: 1, '<x>': 'y' }]) {
        const e = expectError(await t.app.inject({ method: 'PATCH', url, headers: h, payload }), 400, 'NOTHING_TO_CHANGE', ['nonsense', '<x>']);
        expect(e.message).toContain('未作任何修改');
      }
      const e = expectError(await t.app.inject({ method: 'PATCH', url, headers: { ...h, 'content-type': 'application/json' }, payload: '' }), 400, 'NOTHING_TO_CHANGE');
      expect(e.message).toContain('没有要修改的内容');
    }
    expect((await t.db.selectFrom('audit_log').select('id').execute()).length).toBe(auditBefore);
    // A real change still works.
    const renamed = await t.app.inject({ method: 'PATCH', url: `/api/units/${m.unitId}`, headers: h, payload: { name: '新红旗村' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe('新红旗村');
  });

  it('a meeting, unit or campaign that does not exist is a 404 before anything is written', async () => {
    const t = await fresh();
    const s = await loginAs(t);
    const count = async () => {
      const tables = ['tickets', 'audit_log', 'roster_entries', 'units', 'meetings'] as const;
      return Promise.all(tables.map(async (table) => Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)));
    };
    const before = await count();
    const attempts: [string, string, unknown][] = [
      ['POST', '/api/meetings/999/roster/1/sign-in', { handout: 'qr' }],
      ['POST', '/api/meetings/999/roster', { name: '张三', category: '党员' }],
      ['POST', '/api/meetings/999/slips', { count: 2 }],
      ['POST', '/api/meetings/999/rehearsal', {}],
      ['POST', '/api/meetings/999/start-signin', {}],
      ['PATCH', '/api/meetings/999', { location: '会议室' }],
      ['PATCH', '/api/units/999', { name: '某村' }],
      ['DELETE', '/api/units/999', undefined],
      ['PUT', '/api/units/999/team', { members: [] }],
      ['PUT', '/api/campaigns/999/template', undefined],
      ['POST', '/api/campaigns/999/units', { name: '某村', kind: 'village' }],
      ['POST', '/api/units/999/meetings', {}],
    ];
    for (const [method, url, payload] of attempts) {
      const res = await t.app.inject({ method: method as 'POST', url, headers: s.headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
      expect([404, 400], `${method} ${url}: ${res.body}`).toContain(res.statusCode);
      if (res.statusCode === 400) expect(res.json().error.code, `${method} ${url}`).toBe('VALIDATION');
      else expect(res.json().error.code).toBe('NOT_FOUND');
    }
    expect(await count()).toEqual(before);
  });
});

describe('the Content-Security-Policy', () => {
  it('comes from configuration, never from the Host header', async () => {
    const t = await fresh({ env: { PUBLIC_URL: 'https://ceping.example.org', HOST: '0.0.0.0', PORT: '8080' } });
    const hostile = await t.app.inject({ method: 'GET', url: '/healthz', headers: { host: "evil.example; script-src 'unsafe-inline' *" } });
    const plain = await t.app.inject({ method: 'GET', url: '/healthz' });
    const csp = String(hostile.headers['content-security-policy']);
    expect(csp).toBe(String(plain.headers['content-security-policy']));
    expect(csp).not.toContain('evil');
    expect(csp).not.toContain("'unsafe-inline' *");
    expect(csp).toContain('wss://ceping.example.org');
    expect(csp).toContain('ws://127.0.0.1:8080');
    expect(csp).toContain("script-src 'self'");
    expect(csp.split(';').filter((d) => d.trim().startsWith('script-src'))).toHaveLength(1);
  });

  it('lists PUBLIC_URL and the listening addresses, and nothing that could add a directive', () => {
    const policy = contentSecurityPolicy({ HOST: '0.0.0.0', PORT: 8080, PUBLIC_URL: 'http://192.168.1.20:8080' }, ['192.168.1.20', 'fe80::1', 'bad;host']);
    const connect = policy.split('; ').find((d) => d.startsWith('connect-src'))!;
    expect(connect.split(' ')).toEqual(['connect-src', "'self'", 'ws://192.168.1.20:8080', 'ws://127.0.0.1:8080', 'ws://localhost:8080', 'ws://[fe80::1]:8080']);
    const one = contentSecurityPolicy({ HOST: '10.0.0.5', PORT: 9000, PUBLIC_URL: undefined }, ['192.168.1.20']);
    expect(one).toContain("connect-src 'self' ws://10.0.0.5:9000;");
  });
});

describe('an inspector sees only the assigned meetings and their units', () => {
  it('refuses the set-up of other units: team names, positions, reserve candidates, form', async () => {
    const t = await fresh();
    const town = await loginAs(t);
    const mine = await makeMeeting(t, { roster: 3, signIn: 0, open: false, session: town });
    const other = await makeMeeting(t, { roster: 3, signIn: 0, open: false, session: town });
    // a second unit in the same year as `mine`
    const sibling = await call<{ id: number }>(t, town, 'POST', `/api/campaigns/${mine.campaignId}/units`, { name: '邻村', kind: 'village', reserveCandidates: ['秘密候选人'] });
    await call(t, town, 'PUT', `/api/units/${sibling.id}/team`, { members: [{ name: '邻村书记', position: '党支部书记', isSecretary: true }] });

    const insp = await loginAs(t, { role: 'inspector' });
    await call(t, town, 'POST', `/api/meetings/${mine.meetingId}/assignments`, { adminId: insp.adminId });
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: insp.headers });

    expect((await get(`/api/units/${mine.unitId}`)).statusCode).toBe(200);
    expect((await get(`/api/units/${mine.unitId}/form-preview`)).statusCode).toBe(200);
    for (const url of [`/api/units/${other.unitId}`, `/api/units/${sibling.id}`, `/api/units/${other.unitId}/form-preview`, `/api/units/${sibling.id}/form-preview`, '/api/units/9999', `/api/campaigns/${other.campaignId}`, '/api/campaigns/9999']) {
      const res = await get(url);
      expectError(res, 403, 'FORBIDDEN', ['邻村书记', '秘密候选人']);
    }
    const campaign = await get(`/api/campaigns/${mine.campaignId}`);
    expect(campaign.statusCode).toBe(200);
    expect(campaign.json().units.map((u: { id: number }) => u.id)).toEqual([mine.unitId]);
    expect(campaign.body).not.toContain('邻村');
    const list = await get('/api/campaigns');
    expect(list.json().campaigns.map((c: { id: number }) => c.id)).toEqual([mine.campaignId]);
    const meetings = await get('/api/meetings');
    expect(meetings.json().meetings.map((m: { id: number }) => m.id)).toEqual([mine.meetingId]);
    for (const url of [`/api/meetings/${other.meetingId}`, `/api/meetings/${other.meetingId}/roster`, `/api/meetings/${other.meetingId}/audit`, '/api/meetings/9999']) {
      expectError(await get(url), 403, 'FORBIDDEN');
    }

    // The township still sees everything.
    const all = await t.app.inject({ method: 'GET', url: `/api/campaigns/${mine.campaignId}`, headers: town.headers });
    expect(all.json().units).toHaveLength(2);
  });
});
