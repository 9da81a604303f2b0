/**
 * Anonymity at rest (issue 2): a scripted 200-person village meeting with a known sign-in order and a
 * known (shuffled) cast order, then the database FILE is read with its own read-only connection, and
 * the raw bytes, the captured logs and the audit log are searched for anything that joins a person,
 * a credential or a moment to a ballot.
 */
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { fullPackage, nonce } from '../helpers/packages.ts';
import { seeded, shuffle, spearman } from '../helpers/stats.ts';
import { hashSecret } from '../../server/credentials/secrets.ts';
import { AuditEvent } from '../../server/audit/audit.events.ts';

const PEOPLE = 200;
/** Two more attendees take a paper form; their ballots are typed in by one member and confirmed by another. */
const PAPER = 2;
/** Words that must not name a column of an anonymous table (matched against the parts of a snake_case name). */
const FORBIDDEN_COLUMN_WORDS = ['token', 'credential', 'entry', 'roster', 'time', 'created', 'ip', 'at', 'addr', 'address', 'date', 'seq', 'order'];

type Row = Record<string, unknown>;

/** The only audit events about ballots: a paper package was typed in, confirmed, or discarded (by whom, never what). */
const PAPER_EVENTS: string[] = [AuditEvent.PAPER_BALLOT_ENTERED, AuditEvent.PAPER_BALLOT_CONFIRMED, AuditEvent.PAPER_BALLOT_DISCARDED];

describe('anonymity at rest: a 200-person meeting read back from the database file', () => {
  let t: TestApp;
  let m: TestMeeting;
  let ro: Database.Database;
  /** castOrder[p] = the sign-in index of the person who cast p-th. */
  let castOrder: number[];
  const receipts: string[] = [];
  const nonces: string[] = [];
  let auditRowsBeforeCasting = 0;

  beforeAll(async () => {
    // Storage order is random; a pinned seed keeps the |rho| < 0.2 assertions from failing by chance (~1 % of runs).
    t = await makeTestApp({ seed: 20201125 });
    m = await makeMeeting(t, { kind: 'village', roster: PEOPLE + PAPER, signIn: PEOPLE, paperSignIns: PAPER, liveK: 5 });
    expect(m.tokens).toHaveLength(PEOPLE);
    expect(m.entryIds).toHaveLength(PEOPLE + PAPER);
    auditRowsBeforeCasting = (t.sqlite.prepare('select count(*) as n from audit_log').get() as { n: number }).n;

    castOrder = shuffle(
      Array.from({ length: PEOPLE }, (_, i) => i),
      seeded(20201126),
    );
    // Sequential casts, so the cast order is exactly castOrder. Every tenth person types the short code.
    for (const [p, person] of castOrder.entries()) {
      const n = nonce();
      const credential = p % 10 === 0 ? m.shortCodes[person]!.toLowerCase().replace('-', '') : m.tokens[person]!;
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/voter/cast',
        payload: { credential, nonce: n, package: fullPackage(m.form!, 1 + (p % 3), `样本${p}`) },
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { receipt: string; alreadyRecorded: boolean };
      expect(body.alreadyRecorded).toBe(false);
      receipts.push(body.receipt);
      nonces.push(n);
    }
    const checker = await loginAs(t, { role: 'township', username: 'checker' });
    for (let j = 0; j < PAPER; j++) {
      const { pendingId } = await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, {
        package: fullPackage(m.form!, 2, `纸质${j}`),
      });
      await call(t, checker, 'POST', `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, {});
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    // The file itself, through a connection of its own: what anyone holding a copy of it can read.
    ro = new Database(t.file, { readonly: true, fileMustExist: true });
  }, 120_000);

  afterAll(async () => {
    ro?.close();
    await t?.close();
  });

  const rows = (sql: string): Row[] => ro.prepare(sql).all() as Row[];
  const columns = (table: string) => (ro.prepare(`pragma table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

  it('counted all 202 and kept the meeting consistent; no paper entry is left pending', () => {
    const meeting = ro.prepare('select cast_count, issued_count, paper_count, state from meetings where id = ?').get(m.meetingId) as Row;
    expect(meeting).toEqual({ cast_count: PEOPLE + PAPER, issued_count: PEOPLE + PAPER, paper_count: PAPER, state: 'closed' });
    expect(rows('select id from ballots')).toHaveLength(PEOPLE + PAPER);
    // Who typed a paper ballot is kept only while it waits; once confirmed nothing of it remains.
    expect(rows('select * from paper_pending')).toEqual([]);
    expect(rows('select receipt_hash from receipts')).toHaveLength(PEOPLE);
    expect(rows("select id from credentials where used = 1 and kind = 'desk'")).toHaveLength(PEOPLE);
  });

  describe('schema', () => {
    it('ballots, credentials and receipts have exactly their anonymous columns', () => {
      // Not even whether a ballot came on paper: with one or two paper voters the desk knows, that would point at them.
      expect(columns('ballots')).toEqual(['id', 'meeting_id', 'package_json']);
      expect(columns('credentials')).toEqual(['id', 'meeting_id', 'kind', 'token_hash', 'code_hash', 'used', 'retry_check']);
      expect(columns('receipts')).toEqual(['receipt_hash', 'meeting_id']);
    });

    it('no column of ballots or receipts is named like a token, credential, entry, time or address', () => {
      for (const table of ['ballots', 'receipts']) {
        for (const col of columns(table)) {
          const words = col.toLowerCase().split('_');
          for (const w of FORBIDDEN_COLUMN_WORDS) {
            expect(words.includes(w) || (w.length > 3 && col.toLowerCase().includes(w)), `${table}.${col} looks like "${w}"`).toBe(false);
          }
        }
      }
      // credentials has token_hash (a keyed hash: the only way to find a presented secret) and nothing else of the kind.
      for (const col of columns('credentials').filter((c) => c !== 'token_hash')) {
        const words = col.toLowerCase().split('_');
        for (const w of FORBIDDEN_COLUMN_WORDS) expect(words.includes(w) || (w.length > 3 && col.includes(w)), `credentials.${col}`).toBe(false);
      }
    });

    it('the three tables are WITHOUT ROWID: storage follows the random key, and there is no rowid to order by', () => {
      for (const table of ['ballots', 'credentials', 'receipts']) {
        const { sql } = ro.prepare("select sql from sqlite_master where type = 'table' and name = ?").get(table) as { sql: string };
        expect(sql.toLowerCase().replace(/\s+/g, ' '), table).toContain('without rowid');
        expect(() => ro.prepare(`select rowid from ${table}`).all(), table).toThrow(/rowid/);
        expect(() => ro.prepare(`select id from ${table} order by rowid`).all(), table).toThrow();
      }
      // No trigger or extra table records ballots or credentials on the side.
      const triggers = rows("select name, tbl_name from sqlite_master where type = 'trigger'");
      expect(triggers.filter((x) => ['ballots', 'credentials', 'receipts'].includes(String(x.tbl_name)))).toEqual([]);
    });
  });

  describe('values', () => {
    it('no ballot or receipt value equals or contains a credential id, a credential hash, or a roster entry', () => {
      const creds = rows('select * from credentials');
      const entries = rows('select id, name from roster_entries') as { id: number; name: string }[];
      expect(entries).toHaveLength(PEOPLE + PAPER);
      const secrets = creds.flatMap((c) => [String(c.id), String(c.token_hash), String(c.code_hash)]);
      const entryIds = new Set(entries.map((e) => String(e.id)));
      const names = entries.map((e) => e.name);

      const problems: string[] = [];
      const check = (table: string, row: Row) => {
        for (const [col, v] of Object.entries(row)) {
          if (col === 'meeting_id' || v === null) continue;
          const s = String(v);
          if (secrets.some((sec) => s.includes(sec))) problems.push(`${table}.${col} holds a credential value`);
          if (entryIds.has(s)) problems.push(`${table}.${col} = a roster entry id`);
          const name = names.find((n) => s.includes(n));
          if (name) problems.push(`${table}.${col} holds ${name}`);
        }
      };
      const secretSet = new Set(secrets);
      for (const b of rows('select * from ballots')) {
        check('ballots', b);
        // Inside the package: no leaf value that is an entry id or a secret.
        const walk = (x: unknown): void => {
          if (x && typeof x === 'object') Object.values(x).forEach(walk);
          else if (typeof x === 'number' && entryIds.has(String(x))) problems.push(`a package holds the number ${x}`);
          else if (secretSet.has(String(x))) problems.push('a package holds a credential value');
        };
        const pkg = JSON.parse(String(b.package_json)) as Row;
        walk(pkg);
        expect(Object.keys(pkg).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
      }
      for (const r of rows('select * from receipts')) check('receipts', r);
      expect(problems).toEqual([]);
    });

    it('no credential row holds a roster entry id or name, and every retry check was wiped at close', () => {
      const entries = rows('select id, name from roster_entries') as { id: number; name: string }[];
      const entryIds = new Set(entries.map((e) => String(e.id)));
      const problems: string[] = [];
      const creds = rows('select * from credentials');
      // Desk credentials come from a pool made before anyone signs in; the unused rest stay unused.
      expect(creds.filter((c) => c.used === 1)).toHaveLength(PEOPLE);
      expect(creds.length).toBeGreaterThanOrEqual(PEOPLE);
      for (const c of creds) {
        for (const [col, v] of Object.entries(c)) {
          if (col === 'meeting_id' || col === 'used' || v === null) continue;
          if (entryIds.has(String(v))) problems.push(`credentials.${col} = a roster entry id`);
          const e = entries.find((x) => String(v).includes(x.name));
          if (e) problems.push(`credentials.${col} holds ${e.name}`);
        }
        if (c.retry_check !== null) problems.push('a retry check survived the close');
      }
      expect(problems).toEqual([]);
    });
  });

  describe('the raw file', () => {
    const raw = (): Buffer[] => [t.file, `${t.file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f));

    it('holds no token, short code, receipt or phone nonce in plain text', () => {
      const buffers = raw();
      // Sanity: the file really holds the ballots (so a miss below is a real miss, not an empty read).
      expect(buffers.some((b) => b.includes(Buffer.from('样本0', 'utf8')))).toBe(true);
      const needles = [
        ...m.tokens,
        ...m.shortCodes,
        ...m.shortCodes.map((c) => c.replace('-', '')),
        ...receipts,
        ...receipts.map((r) => r.replace('-', '')),
        ...nonces,
      ];
      for (const b of buffers) {
        for (const s of needles) expect(b.includes(Buffer.from(s, 'utf8')), `file holds ${s}`).toBe(false);
      }
    });

    it('was checkpointed at close: the WAL beside it is empty', () => {
      const wal = `${t.file}-wal`;
      if (existsSync(wal)) expect(readFileSync(wal).length).toBe(0);
    });
  });

  describe('storage order', () => {
    it('ballots are stored in random-key order, uncorrelated with the cast order (|ρ| < 0.2)', () => {
      // No ORDER BY: a WITHOUT ROWID table is scanned in primary-key order, which is the physical order.
      const all = rows('select * from ballots');
      expect(all.map((b) => b.id)).toEqual(all.map((b) => String(b.id)).sort());
      // The phone ballots carry their cast position in the comment; the paper ones have none.
      const stored = all.filter((b) => /"text":"样本\d+"/.test(String(b.package_json)));
      const castPosition = stored.map((b) => {
        const text = (JSON.parse(String(b.package_json)) as { E: { text: string } }).E.text;
        const match = /^样本(\d+)$/.exec(text);
        if (!match) throw new Error(`unexpected comment ${text}`);
        return Number(match[1]);
      });
      expect([...castPosition].sort((a, b) => a - b)).toEqual(Array.from({ length: PEOPLE }, (_, i) => i));
      const rho = spearman(castPosition.map((_, i) => i), castPosition);
      expect(Math.abs(rho), `ρ(ballot storage, cast order) = ${rho.toFixed(3)}`).toBeLessThan(0.2);
    });

    it('credentials are stored in random-key order, uncorrelated with the sign-in order (|ρ| < 0.2)', () => {
      const stored = rows('select * from credentials');
      expect(stored.map((c) => c.id)).toEqual(stored.map((c) => String(c.id)).sort());
      const bySignIn = new Map(m.tokens.map((tok, i) => [hashSecret(t.pepper, 'token', tok), i]));
      const handedOut = stored.filter((c) => bySignIn.has(String(c.token_hash)));
      expect(handedOut).toHaveLength(PEOPLE);
      const signInIndex = handedOut.map((c) => bySignIn.get(String(c.token_hash))!);
      const rho = spearman(signInIndex.map((_, i) => i), signInIndex);
      expect(Math.abs(rho), `ρ(credential storage, sign-in order) = ${rho.toFixed(3)}`).toBeLessThan(0.2);
    });
  });

  describe('logs', () => {
    it('hold no token, short code, receipt, nonce, ballot content or address', () => {
      const text = t.logs.join('');
      expect(text.length).toBeGreaterThan(0);
      const needles = [
        ...m.tokens,
        ...m.shortCodes,
        ...m.shortCodes.map((c) => c.replace('-', '')),
        ...m.shortCodes.map((c) => c.replace('-', '').toLowerCase()),
        ...receipts,
        ...receipts.map((r) => r.replace('-', '')),
        ...nonces,
      ];
      for (const s of needles) expect(text.includes(s), `logs hold ${s}`).toBe(false);
      expect(text).not.toContain('样本');
      for (const ip of ['127.0.0.1', '::1', '::ffff:', 'remoteAddress', 'remotePort', '"ip"', '"ips"', 'x-forwarded-for']) {
        expect(text, ip).not.toContain(ip);
      }
      expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    });

    it('log voter requests as method, route, status and duration only', () => {
      const lines = t.logs.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Row);
      const voter = lines.filter((l) => JSON.stringify(l).includes('/api/voter/'));
      expect(voter.length).toBeGreaterThanOrEqual(PEOPLE);
      const allowed = new Set(['level', 'time', 'pid', 'hostname', 'reqId', 'msg', 'method', 'route', 'status', 'ms']);
      for (const l of voter) {
        expect(Object.keys(l).filter((k) => !allowed.has(k)), JSON.stringify(l)).toEqual([]);
        expect(l.route).toMatch(/^\/api\/voter\/(cast|status)$/);
      }
      expect(voter.filter((l) => l.route === '/api/voter/cast' && l.status === 200)).toHaveLength(PEOPLE);
    });
  });

  describe('audit log', () => {
    it('records no ballot: casting 200 ballots added no row, and no detail names a handout or a secret', () => {
      const audit = rows('select event, detail_json from audit_log order by id') as { event: string; detail_json: string }[];
      // After the sign-ins only the paper entries (typed, confirmed: who did it, never what) and the close were added;
      // the 200 phone casts left nothing.
      const added = audit.slice(auditRowsBeforeCasting).map((a) => a.event);
      expect(added.filter((e) => e === AuditEvent.PAPER_BALLOT_ENTERED)).toHaveLength(PAPER);
      expect(added.filter((e) => e === AuditEvent.PAPER_BALLOT_CONFIRMED)).toHaveLength(PAPER);
      expect(added.filter((e) => !PAPER_EVENTS.includes(e) && e !== AuditEvent.ADMIN_CREATED && e !== AuditEvent.ADMIN_LOGIN)).toEqual([AuditEvent.VOTING_CLOSED]);
      // A paper entry's log line says nothing of what the ballot said.
      for (const a of audit.filter((x) => PAPER_EVENTS.includes(x.event))) expect(a.detail_json).not.toMatch(/grades|picks|writeIns|text|纸质|competent|good/);
      const known = new Set<string>(Object.values(AuditEvent));
      for (const a of audit) {
        expect(known.has(a.event), a.event).toBe(true);
        // About a ballot: only "a paper ballot was entered", never a cast, a receipt or a credential used.
        if (/ballot|cast|receipt|credential\.used/.test(a.event)) expect(PAPER_EVENTS).toContain(a.event);
        expect(a.detail_json).not.toContain('handout');
        expect(a.detail_json).not.toContain('样本');
        expect(a.detail_json).not.toContain('纸质');
        expect(a.detail_json).not.toMatch(/"(qr|paper|slip)"/);
      }
      const details = audit.map((a) => a.detail_json).join('\n');
      for (const s of [...m.tokens, ...m.shortCodes, ...m.shortCodes.map((c) => c.replace('-', '')), ...receipts, ...nonces]) {
        expect(details.includes(s)).toBe(false);
      }
      expect(audit.filter((a) => a.event === AuditEvent.ATTENDEE_SIGNED_IN)).toHaveLength(PEOPLE + PAPER);
    });
  });
});
