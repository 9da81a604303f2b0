/**
 * Anonymity at rest: a scripted 200-person village meeting with a known sign-in order, tickets redeemed
 * at the desk, and a known (shuffled) cast order. The database FILE is read through a connection of its
 * own — every column of every table — after the sign-ins, after the redemptions, during voting and after
 * close, and the raw bytes, the captured logs and the audit log are searched for anything that joins a
 * person, a ticket or a moment to a ballot. (What copies after every commit can learn is
 * attacker.test.ts's subject.)
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { fullPackage } from '../helpers/packages.ts';
import { seeded, shuffle, spearman } from '../helpers/stats.ts';
import { cast, finishRedemption, newBlinding, redeemRequest, type PhoneToken } from '../helpers/phone.ts';
import { everyCell, findNeedles, rowsOf, type Cell } from '../helpers/db-scan.ts';
import { hashSecret } from '../../server/credentials/secrets.ts';
import { toB64u } from '../../server/credentials/voprf.ts';
import { AuditEvent } from '../../server/audit/audit.events.ts';

const PEOPLE = 200;
/** Two more attendees take a paper form; their ballots are typed in by one member and confirmed by another. */
const PAPER = 2;

type Row = Record<string, unknown>;

/** The only audit events about ballots: a paper package was typed in, confirmed, or discarded (by whom, never what). */
const PAPER_EVENTS: string[] = [AuditEvent.PAPER_BALLOT_ENTERED, AuditEvent.PAPER_BALLOT_CONFIRMED, AuditEvent.PAPER_BALLOT_DISCARDED];

describe('anonymity at rest: a 200-person meeting read back from the database file', () => {
  let t: TestApp;
  let m: TestMeeting;
  let ro: Database.Database;
  /** castOrder[p] = the sign-in index of the person who cast p-th. */
  let castOrder: number[];
  const tokens: PhoneToken[] = [];
  const blinded: string[] = [];
  const receipts: string[] = [];
  let auditRowsBeforeCasting = 0;
  const snapshots: Record<'signedIn' | 'redeemed' | 'voting' | 'closed', Cell[]> = { signedIn: [], redeemed: [], voting: [], closed: [] };
  const readFile = () => {
    const db = new Database(t.file, { readonly: true, fileMustExist: true });
    try {
      return everyCell(db);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    // Storage order is random; a pinned seed keeps the |rho| < 0.2 assertions from failing by chance.
    t = await makeTestApp({ seed: 20201125 });
    m = await makeMeeting(t, { kind: 'village', roster: PEOPLE + PAPER, signIn: PEOPLE, paperSignIns: PAPER, liveK: 5, redeem: false, open: false });
    expect(m.tickets).toHaveLength(PEOPLE);
    snapshots.signedIn = readFile();
    // Each phone redeems its ticket at the desk; every tenth person types the short code instead.
    for (const [i, ticket] of m.tickets.entries()) {
      const b = newBlinding();
      const res = await redeemRequest(t, i % 10 === 0 ? m.shortCodes[i]!.toLowerCase().replace('-', '') : ticket, toB64u(b.blinded));
      expect(res.statusCode, res.body).toBe(200);
      tokens.push(finishRedemption(b, res.json()));
      blinded.push(toB64u(b.blinded));
    }
    snapshots.redeemed = readFile();
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    auditRowsBeforeCasting = (t.sqlite.prepare('select count(*) as n from audit_log').get() as { n: number }).n;

    castOrder = shuffle(Array.from({ length: PEOPLE }, (_, i) => i), seeded(20201126));
    // Sequential casts, so the cast order is exactly castOrder.
    for (const [p, person] of castOrder.entries()) {
      const res = await cast(t, tokens[person]!, fullPackage(m.form!, 1 + (p % 3), `样本${p}`));
      expect(res.statusCode, res.body).toBe(200);
      receipts.push(res.json().receipt);
    }
    const checker = await loginAs(t, { role: 'township', username: 'checker' });
    for (let j = 0; j < PAPER; j++) {
      const { pendingId } = await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, {
        package: fullPackage(m.form!, 2, `纸质${j}`),
      });
      await call(t, checker, 'POST', `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, {});
    }
    snapshots.voting = readFile();
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await t.app.services.compactor.ensure(m.meetingId);
    snapshots.closed = readFile();
    ro = new Database(t.file, { readonly: true, fileMustExist: true });
  }, 180_000);

  afterAll(async () => {
    ro?.close();
    await t?.close();
  });

  const rows = (sql: string): Row[] => ro.prepare(sql).all() as Row[];
  const columns = (table: string) => (ro.prepare(`pragma table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

  /** What only the phone holds or the desk showed: none of it may be stored anywhere, at any point. */
  const phoneSecrets = () => [
    ...m.tickets.map((v, i) => ({ label: `ticket ${i}`, value: v })),
    ...m.shortCodes.flatMap((v, i) => [{ label: `short code ${i}`, value: v }, { label: `short code ${i}`, value: v.replace('-', '') }]),
    ...tokens.flatMap((k, i) => [
      { label: `token input ${i}`, value: k.input },
      { label: `token input bytes ${i}`, value: Buffer.from(k.input, 'base64url') },
      { label: `token output ${i}`, value: k.output },
      { label: `token output bytes ${i}`, value: Buffer.from(k.output, 'base64url') },
    ]),
    ...blinded.flatMap((v, i) => [{ label: `blinded ${i}`, value: v }, { label: `blinded bytes ${i}`, value: Buffer.from(v, 'base64url') }]),
    ...receipts.flatMap((v, i) => [{ label: `receipt ${i}`, value: v }, { label: `receipt ${i}`, value: v.replace('-', '') }]),
  ];

  it('counted all 202 and kept the meeting consistent; no paper entry is left pending', () => {
    const meeting = ro.prepare('select cast_count, issued_count, paper_count, paper_issued, state from meetings where id = ?').get(m.meetingId) as Row;
    expect(meeting).toEqual({ cast_count: PEOPLE + PAPER, issued_count: PEOPLE + PAPER, paper_count: PAPER, paper_issued: PAPER, state: 'closed' });
    expect(rows('select id from ballots where filled = 1')).toHaveLength(PEOPLE + PAPER);
    expect(rows('select * from paper_pending')).toEqual([]);
    expect(rows('select receipt_hash from receipts')).toHaveLength(PEOPLE);
    expect(rows("select id from tickets where state = 'redeemed' and kind = 'desk'")).toHaveLength(PEOPLE);
  });

  describe('schema', () => {
    it('ballots, spent tokens and receipts have exactly their anonymous columns; no ballot table knows a ticket', () => {
      // Not even whether a ballot came on paper: with one or two paper voters the desk knows, that would point at them.
      expect(columns('ballots')).toEqual(['id', 'meeting_id', 'filled', 'body']);
      expect(columns('spent_tokens')).toEqual(['nullifier', 'meeting_id', 'retry_check']);
      expect(columns('receipts')).toEqual(['receipt_hash', 'meeting_id']);
      // The ticket knows whom the desk gave it to (the desk knows that anyway), never anything of a token.
      expect(columns('tickets')).toEqual(['id', 'meeting_id', 'kind', 'serial', 'entry_id', 'secret_hash', 'code_hash', 'state', 'blinded_hash']);
      const triggers = rows("select name, tbl_name from sqlite_master where type = 'trigger'");
      expect(triggers.filter((x) => ['ballots', 'tickets', 'spent_tokens', 'receipts'].includes(String(x.tbl_name)))).toEqual([]);
    });
  });

  describe('every column of every table, at every stage', () => {
    it('never holds a ticket secret, a short code, a blinded element, a token or a receipt', () => {
      const needles = phoneSecrets();
      for (const [stage, cells] of Object.entries(snapshots)) {
        expect(cells.length, stage).toBeGreaterThan(100);
        expect(findNeedles(cells, needles), stage).toEqual([]);
      }
    });

    it('keeps ticket-derived and token-derived values in different tables, never in one row', () => {
      const ticketDerived = new Set([
        ...m.tickets.map((s) => hashSecret(t.pepper, 'ticket', s)),
        ...blinded.map((b) => hashSecret(t.pepper, 'blinded', b)),
      ]);
      const tokenDerived = new Set([
        ...tokens.map((k) => hashSecret(t.pepper, 'nullifier', k.input)),
        ...receipts.map((r) => hashSecret(t.pepper, 'receipt', r)),
      ]);
      const voting = snapshots.voting;
      // During voting both kinds exist (each where it must), ...
      expect(voting.filter((c) => typeof c.value === 'string' && ticketDerived.has(c.value)).map((c) => `${c.table}.${c.column}`).sort().filter((v, i, a) => a.indexOf(v) === i)).toEqual(['tickets.blinded_hash', 'tickets.secret_hash']);
      expect(voting.filter((c) => typeof c.value === 'string' && tokenDerived.has(c.value)).map((c) => `${c.table}.${c.column}`).sort().filter((v, i, a) => a.indexOf(v) === i)).toEqual(['receipts.receipt_hash', 'spent_tokens.nullifier']);
      // ... but no row holds one of each.
      for (const [key, cells] of rowsOf(voting)) {
        const hasTicket = cells.some((c) => typeof c.value === 'string' && ticketDerived.has(c.value));
        const hasToken = cells.some((c) => typeof c.value === 'string' && tokenDerived.has(c.value));
        expect(hasTicket && hasToken, key).toBe(false);
      }
      // After close the nullifiers and the blinded hashes are gone; receipts stay (to be checked), linked to nothing.
      const closed = snapshots.closed;
      expect(closed.filter((c) => typeof c.value === 'string' && c.table !== 'receipts' && tokenDerived.has(c.value))).toEqual([]);
      expect(closed.filter((c) => c.table === 'tickets' && c.column === 'blinded_hash')).toEqual([]);
      expect(closed.filter((c) => c.table === 'spent_tokens' || c.table === 'meeting_keys')).toEqual([]);
    });

    it('keeps every keyed hash of a credential in its one column, never in the roster or anywhere else, at every stage', () => {
      // Every keyed hash the server may make of what the desk showed or the phone sent, and the one
      // column each belongs in. A hash beside a name (a roster column, an audit detail) would join the
      // person to the ticket, and through a lost-reply check or a receipt, to the ballot.
      const home: [string, string[]][] = [
        ['tickets.secret_hash', m.tickets.map((s) => hashSecret(t.pepper, 'ticket', s))],
        ['tickets.code_hash', m.shortCodes.map((c) => hashSecret(t.pepper, 'code', c.replace('-', '')))],
        ['tickets.blinded_hash', blinded.map((b) => hashSecret(t.pepper, 'blinded', b))],
        ['spent_tokens.nullifier', tokens.map((k) => hashSecret(t.pepper, 'nullifier', k.input))],
        ['receipts.receipt_hash', receipts.map((r) => hashSecret(t.pepper, 'receipt', r))],
      ];
      // A keyed hash is 43 base64url characters: look at every such window of every text cell, so one
      // embedded in a longer text (a note, an audit detail) is found as well as a whole cell.
      const windows = (text: string) => (text.match(/[A-Za-z0-9_-]{43,}/g) ?? []).flatMap((run) => Array.from({ length: run.length - 42 }, (_, i) => run.slice(i, i + 43)));
      for (const [stage, cells] of Object.entries(snapshots)) {
        const seen = cells.flatMap((c) => (typeof c.value === 'string' ? windows(c.value).map((w) => ({ w, at: `${c.table}.${c.column}` })) : []));
        for (const [column, hashes] of home) {
          const set = new Set(hashes);
          const where = [...new Set(seen.filter((x) => set.has(x.w)).map((x) => x.at))];
          expect(where.filter((w) => w !== column), `${stage}: hashes of ${column}`).toEqual([]);
        }
      }
      // Sanity: the hashes are the ones the server makes (each found at home while it is kept).
      expect(snapshots.signedIn.filter((c) => c.table === 'tickets' && c.column === 'code_hash' && typeof c.value === 'string' && home[1]![1].includes(c.value))).toHaveLength(PEOPLE);
      expect(snapshots.voting.filter((c) => c.table === 'spent_tokens' && c.column === 'nullifier')).toHaveLength(PEOPLE);
      // And the roster holds only what the desk typed: no column of it can carry a credential.
      expect(columns('roster_entries').filter((c) => /hash|ticket|token|code|secret|receipt|nullifier|blind/i.test(c))).toEqual([]);
    });

    it('no ballot holds a roster entry id or name', () => {
      const entries = rows('select id, name from roster_entries') as { id: number; name: string }[];
      expect(entries).toHaveLength(PEOPLE + PAPER);
      const ballots = snapshots.closed.filter((c) => c.table === 'ballots' && c.column === 'body').map((c) => String(c.value));
      expect(ballots).toHaveLength(PEOPLE + PAPER);
      for (const body of ballots) {
        const pkg = JSON.parse(body.replace(/\0+$/, '')) as Row;
        expect(Object.keys(pkg).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
        for (const e of entries) expect(body.includes(e.name), e.name).toBe(false);
      }
    });
  });

  describe('the raw file', () => {
    it('holds no ticket, short code, blinded element, token or receipt in its bytes', () => {
      const file = readFileSync(t.file);
      // Sanity: the file really holds the ballots (so a miss below is a real miss, not an empty read).
      expect(file.includes(Buffer.from('样本0', 'utf8'))).toBe(true);
      for (const n of phoneSecrets()) expect(file.includes(typeof n.value === 'string' ? Buffer.from(n.value) : n.value), n.label).toBe(false);
    });
  });

  describe('storage order', () => {
    it('ballots are stored in random-key order, uncorrelated with the cast order (|ρ| < 0.2)', () => {
      // No ORDER BY: a rowid table is scanned in key order, which is the physical order after the rebuild.
      const all = rows('select id, body from ballots') as { id: number; body: Buffer }[];
      expect(all.map((b) => b.id)).toEqual([...all.map((b) => b.id)].sort((a, b) => a - b));
      const text = all.map((b) => b.body.toString('utf8'));
      const castPosition = text.flatMap((s) => {
        const match = /"text":"样本(\d+)"/.exec(s);
        return match ? [Number(match[1])] : [];
      });
      expect([...castPosition].sort((a, b) => a - b)).toEqual(Array.from({ length: PEOPLE }, (_, i) => i));
      const rho = spearman(castPosition.map((_, i) => i), castPosition);
      expect(Math.abs(rho), `ρ(ballot storage, cast order) = ${rho.toFixed(3)}`).toBeLessThan(0.2);
    });
  });

  describe('logs', () => {
    it('hold no ticket, short code, token, receipt, ballot content or address', () => {
      const text = t.logs.join('');
      expect(text.length).toBeGreaterThan(0);
      for (const n of phoneSecrets()) if (typeof n.value === 'string') expect(text.includes(n.value), `logs hold ${n.label}`).toBe(false);
      expect(text).not.toContain('样本');
      for (const ip of ['127.0.0.1', '::1', '::ffff:', 'remoteAddress', 'remotePort', '"ip"', '"ips"', 'x-forwarded-for']) {
        expect(text, ip).not.toContain(ip);
      }
      expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    });

    it('log voter requests as method, route, status and duration only', () => {
      const lines = t.logs.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Row);
      const voter = lines.filter((l) => JSON.stringify(l).includes('/api/voter/'));
      expect(voter.length).toBeGreaterThanOrEqual(2 * PEOPLE);
      const allowed = new Set(['level', 'time', 'pid', 'hostname', 'reqId', 'msg', 'method', 'route', 'status', 'ms']);
      for (const l of voter) {
        expect(Object.keys(l).filter((k) => !allowed.has(k)), JSON.stringify(l)).toEqual([]);
        expect(l.route).toMatch(/^\/api\/voter\/(redeem|meeting|cast)$/);
      }
      expect(voter.filter((l) => l.route === '/api/voter/redeem' && l.status === 200)).toHaveLength(PEOPLE);
      expect(voter.filter((l) => l.route === '/api/voter/cast' && l.status === 200)).toHaveLength(PEOPLE);
    });
  });

  describe('audit log', () => {
    it('records no ballot and no redemption: only sign-ins, paper entries (by whom, never what) and the close', () => {
      const audit = rows('select event, detail_json from audit_log order by id') as { event: string; detail_json: string }[];
      const added = audit.slice(auditRowsBeforeCasting).map((a) => a.event);
      expect(added.filter((e) => e === AuditEvent.PAPER_BALLOT_ENTERED)).toHaveLength(PAPER);
      expect(added.filter((e) => e === AuditEvent.PAPER_BALLOT_CONFIRMED)).toHaveLength(PAPER);
      expect(added.filter((e) => !PAPER_EVENTS.includes(e) && e !== AuditEvent.ADMIN_CREATED && e !== AuditEvent.ADMIN_LOGIN)).toEqual([AuditEvent.VOTING_CLOSED]);
      for (const a of audit.filter((x) => PAPER_EVENTS.includes(x.event))) expect(a.detail_json).not.toMatch(/grades|picks|writeIns|text|纸质|competent|good/);
      const known = new Set<string>(Object.values(AuditEvent));
      for (const a of audit) {
        expect(known.has(a.event), a.event).toBe(true);
        if (/ballot|cast|receipt|redeem|token/.test(a.event)) expect(PAPER_EVENTS).toContain(a.event);
        expect(a.detail_json).not.toContain('handout');
        expect(a.detail_json).not.toContain('样本');
        expect(a.detail_json).not.toMatch(/"(qr|paper|slip)"/);
      }
      const details = audit.map((a) => a.detail_json).join('\n');
      for (const n of phoneSecrets()) if (typeof n.value === 'string') expect(details.includes(n.value), n.label).toBe(false);
      expect(audit.filter((a) => a.event === AuditEvent.ATTENDEE_SIGNED_IN)).toHaveLength(PEOPLE + PAPER);
    });
  });
});
