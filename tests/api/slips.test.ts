import { inflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as fontkit from 'fontkit';
import jsQR from 'jsqr';
import QRCode from 'qrcode';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { loginAs, type AdminSession } from '../helpers/auth.ts';
import { hashSecret, normalizeShortCode } from '../../server/credentials/secrets.ts';
import { findTicketByHash } from '../../server/credentials/tickets.repository.ts';
import { qrRuns, type ModuleRun } from '../../server/slips/slips.qr.ts';
import { renderSlipsPdf, slipFonts, typedAddress } from '../../server/slips/slips.pdf.ts';
import { SLIP_FONT_CHARS, SLIP_TEXT } from '../../server/slips/slips.text.ts';

// ---- A reader for exactly what pdfkit writes: numbered objects, Flate streams, one op per line. ----

interface PdfObject {
  dict: string;
  stream: Buffer | null;
}

type Drawn = { kind: 'qr'; runs: ModuleRun[] } | { kind: 'text'; font: string; size: number; text: string };

function readObjects(pdf: Buffer): Map<number, PdfObject> {
  const objects = new Map<number, PdfObject>();
  for (const m of pdf.toString('latin1').matchAll(/(\d+) 0 obj\n([\s\S]*?)\nendobj/g)) {
    const s = /^([\s\S]*?)stream\n([\s\S]*)\nendstream$/.exec(m[2]!);
    if (!s) {
      objects.set(Number(m[1]), { dict: m[2]!, stream: null });
      continue;
    }
    const raw = Buffer.from(s[2]!, 'latin1');
    objects.set(Number(m[1]), { dict: s[1]!, stream: s[1]!.includes('/FlateDecode') ? inflateSync(raw) : raw });
  }
  return objects;
}

const ref = (dict: string, key: string): number => Number(new RegExp(`/${key} (\\d+) 0 R`).exec(dict)![1]);

/** A ToUnicode CMap as pdfkit writes it: bfrange lines `<start> <end> [<u> <u> …]`. */
function toUnicode(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const m of cmap.matchAll(/<([0-9a-f]{4})> <[0-9a-f]{4}> \[([^\]]*)\]/g)) {
    [...m[2]!.matchAll(/<([0-9a-f ]+)>/g)].forEach((u, i) =>
      map.set(parseInt(m[1]!, 16) + i, String.fromCharCode(...u[1]!.split(' ').map((h) => parseInt(h, 16)))),
    );
  }
  return map;
}

/** Each page's QR symbols and text runs, in drawing order. */
function readPages(pdf: Buffer): Drawn[][] {
  const objects = readObjects(pdf);
  const catalog = [...objects.values()].find((o) => /\/Type \/Catalog\b/.test(o.dict))!;
  const kids = /\/Kids \[([^\]]*)\]/.exec(objects.get(ref(catalog.dict, 'Pages'))!.dict)![1]!;
  return [...kids.matchAll(/(\d+) 0 R/g)].map((k) => {
    const page = objects.get(Number(k[1]))!;
    const resources = objects.get(ref(page.dict, 'Resources'))!.dict;
    const fonts = new Map<string, { name: string; unicode: Map<number, string> }>();
    for (const f of resources.matchAll(/\/(F\d+) (\d+) 0 R/g)) {
      const font = objects.get(Number(f[2]))!.dict;
      fonts.set(f[1]!, { name: /\/BaseFont \/\w+\+([\w-]+)/.exec(font)![1]!, unicode: toUnicode(objects.get(ref(font, 'ToUnicode'))!.stream!.toString('latin1')) });
    }
    const drawn: Drawn[] = [];
    let font = '';
    let size = 0;
    let qr: ModuleRun[] | null = null;
    for (const line of objects.get(ref(page.dict, 'Contents'))!.stream!.toString('latin1').split('\n')) {
      let m: RegExpExecArray | null;
      if ((m = /^([\d.]+) 0 0 \1 [\d.]+ [\d.]+ cm$/.exec(line)) && m[1] !== '1') qr = [];
      else if (qr && (m = /^(\d+) (\d+) (\d+) 1 re$/.exec(line))) qr.push({ x: Number(m[1]), y: Number(m[2]), w: Number(m[3]) });
      else if (qr && line === 'f') {
        drawn.push({ kind: 'qr', runs: qr });
        qr = null;
      } else if ((m = /^\/(F\d+) ([\d.]+) Tf$/.exec(line))) [font, size] = [m[1]!, Number(m[2])];
      else if (line.endsWith('TJ')) {
        const f = fonts.get(font)!;
        const codes = [...line.matchAll(/<([0-9a-f]+)>/g)].flatMap((h) => h[1]!.match(/.{4}/g)!.map((c) => parseInt(c, 16)));
        drawn.push({ kind: 'text', font: f.name, size, text: codes.map((c) => f.unicode.get(c) ?? '\uFFFD').join('') });
      }
    }
    return drawn;
  });
}

/** Rasterise the drawn runs (4 px a module, 4 modules of quiet zone) and read the symbol back. */
function decodeRuns(runs: readonly ModuleRun[]): string | null {
  const size = Math.max(...runs.map((r) => r.x + r.w));
  const px = 4;
  const side = (size + 8) * px;
  const rgba = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const r of runs) {
    for (let y = (r.y + 4) * px; y < (r.y + 5) * px; y++) {
      for (let x = (r.x + 4) * px; x < (r.x + 4 + r.w) * px; x++) rgba.fill(0, (y * side + x) * 4, (y * side + x) * 4 + 3);
    }
  }
  return jsQR(rgba, side, side)?.data ?? null;
}

// ---- The pieces ----

describe('slip QR runs', () => {
  it('cover exactly the dark modules, each run maximal', () => {
    const urls = fc.oneof(
      fc.webUrl({ withFragments: true, withQueryParameters: true }),
      fc.string({ minLength: 1, maxLength: 300 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{22}$/).map((t) => `http://192.168.1.5:8080/v/#${t}`),
    );
    fc.assert(
      fc.property(urls, (text) => {
        const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
        const { size: runSize, runs } = qrRuns(text);
        expect(runSize).toBe(size);
        const drawn = new Uint8Array(size * size);
        for (const r of runs) {
          expect(r.w).toBeGreaterThan(0);
          expect(r.x + r.w).toBeLessThanOrEqual(size);
          // Maximal: the modules just outside a run are light (or the edge).
          if (r.x > 0) expect(data[r.y * size + r.x - 1]).toBe(0);
          if (r.x + r.w < size) expect(data[r.y * size + r.x + r.w]).toBe(0);
          for (let x = r.x; x < r.x + r.w; x++) drawn[r.y * size + x]! += 1;
        }
        expect([...drawn]).toEqual([...data].map((d) => (d ? 1 : 0)));
      }),
      { numRuns: 60 },
    );
  });
});

describe('slip fonts', () => {
  it('hold every character the slips print, in the face that prints it', () => {
    const regular = fontkit.create(slipFonts().regular) as fontkit.Font;
    const bold = fontkit.create(slipFonts().bold) as fontkit.Font;
    const lacks = (font: fontkit.Font, text: string) => [...new Set(text)].filter((c) => !font.hasGlyphForCodePoint(c.codePointAt(0)!)).join('');
    // The words themselves, not SLIP_FONT_CHARS alone: a word added to SLIP_TEXT must fail here until the font is remade.
    expect(lacks(regular, SLIP_TEXT.instruction.join('') + SLIP_TEXT.oneUse + SLIP_TEXT.footer(1234567890, 42))).toBe('');
    expect(lacks(bold, SLIP_TEXT.title + '23456789ABCDEFGHJKMNPQRSTUVWXYZ-' + 'https://ceping.example.org:8443/v')).toBe('');
    expect(lacks(regular, SLIP_FONT_CHARS.regular)).toBe('');
    expect(lacks(bold, SLIP_FONT_CHARS.bold)).toBe('');
    expect(slipFonts().regular.length + slipFonts().bold.length).toBeLessThan(60_000);
  });

  it('types the address as a phone user would', () => {
    expect(typedAddress('http://192.168.1.5:8080/v')).toBe('192.168.1.5:8080/v');
    expect(typedAddress('https://测评.example.cn/v')).toMatch(/^https:\/\/xn--[a-z0-9]+\.example\.cn\/v$/);
  });
});

describe('slip pages', () => {
  const slip = (i: number) => ({ shortCode: `ABCD-${String(i).padStart(4, '2')}`, url: `http://192.0.2.10:8080/v/#${String(i).padStart(22, 'x')}`, serial: i + 1 });
  it.each([
    [1, 1],
    [12, 1],
    [13, 2],
    [24, 2],
  ])('%i slips fill %i A4 page(s), 12 a page, each QR reading back to its URL', async (n, pages) => {
    const slips = Array.from({ length: n }, (_, i) => slip(i));
    const pdf = await renderSlipsPdf(slips, { entryUrl: 'http://192.0.2.10:8080/v', createdAt: new Date('2020-11-20T08:00:00Z') });
    const read = readPages(pdf);
    expect(read).toHaveLength(pages);
    const qrs = read.flat().filter((d) => d.kind === 'qr');
    expect(qrs.map((q) => decodeRuns(q.runs))).toEqual(slips.map((s) => s.url));
    expect(read.map((p) => p.filter((d) => d.kind === 'text' && d.text.startsWith(SLIP_TEXT.title + '　第')).map((d) => d.kind === 'text' && d.text))).toEqual(
      Array.from({ length: pages }, (_, p) => [SLIP_TEXT.footer(p + 1, pages)]),
    );
  });
});

// ---- The route ----

describe('POST /api/meetings/:id/slips.pdf', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const printSlips = (session: AdminSession, meetingId: number, count: unknown) =>
    t.app.inject({ method: 'POST', url: `/api/meetings/${meetingId}/slips.pdf`, headers: session.headers, payload: { count } });
  const slipRows = async (meetingId: number) =>
    (await t.db.selectFrom('tickets').select(({ fn }) => fn.countAll<number>().as('n')).where('meeting_id', '=', meetingId).where('kind', '=', 'slip').executeTakeFirstOrThrow()).n;

  it('prints 30 slips on 3 pages: each QR and the code under it name the same dormant ticket, with its serial', async () => {
    const m = await makeMeeting(t, { roster: 5, signIn: 2, open: false });
    const res = await printSlips(m.session, m.meetingId, 30);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="slips.pdf"; filename*=UTF-8''${encodeURIComponent('测评票条-30张.pdf')}`);
    const pdf = res.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g)).toHaveLength(3);
    expect(await slipRows(m.meetingId)).toBe(30);

    const pages = readPages(pdf);
    expect(pages).toHaveLength(3);
    const drawn = pages.flat();
    const printed: { url: string; code: string }[] = [];
    drawn.forEach((d, i) => {
      if (d.kind !== 'qr') return;
      const code = drawn[i + 1];
      expect(code?.kind).toBe('text');
      printed.push({ url: decodeRuns(d.runs)!, code: code?.kind === 'text' ? code.text : '' });
    });
    expect(printed).toHaveLength(30);
    for (const { url, code } of printed) {
      expect(url).toMatch(/^http:\/\/192\.0\.2\.10:8080\/v\/#[A-Za-z0-9_-]{22}$/);
      expect(normalizeShortCode(code)).not.toBeNull();
      const byToken = await findTicketByHash(t.db, { secretHash: hashSecret(t.pepper, 'ticket', url.split('#')[1]!) });
      const byCode = await findTicketByHash(t.db, { codeHash: hashSecret(t.pepper, 'code', normalizeShortCode(code)!) });
      expect(byToken).toMatchObject({ meeting_id: m.meetingId, kind: 'slip', state: 'dormant', entry_id: null });
      expect(byCode?.id).toBe(byToken?.id);
    }
    expect(new Set(printed.map((p) => p.url)).size).toBe(30);

    // The fixed words are all there, none as a missing glyph.
    const text = drawn.flatMap((d) => (d.kind === 'text' ? [d.text] : []));
    expect(text.join('')).not.toContain('\uFFFD');
    expect(text.filter((s) => s === SLIP_TEXT.title)).toHaveLength(30);
    expect(text.filter((s) => s === '192.0.2.10:8080/v')).toHaveLength(30);
    expect(text.slice(0, 12).join('')).toContain(SLIP_TEXT.instruction.join(''));
    // Each slip carries its serial, the number the desk types to hand it out.
    expect(text.filter((s) => /^No\.\d{4}$/.test(s))).toEqual(Array.from({ length: 30 }, (_, i) => `No.${String(i + 1).padStart(4, '0')}`));
    const serials = await t.db.selectFrom('tickets').select('serial').where('meeting_id', '=', m.meetingId).where('kind', '=', 'slip').orderBy('serial').execute();
    expect(serials.map((r) => r.serial)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    // A printed slip is dead until the desk hands it out; and the secrets went nowhere else.
    const redeem = await t.app.inject({ method: 'POST', url: '/api/voter/redeem', payload: { ticket: printed[0]!.code, blinded: null } });
    expect(redeem.json().error).toMatchObject({ code: 'TICKET_NOT_HANDED_OUT' });
    const logs = t.logs.join('');
    for (const p of printed) {
      expect(logs).not.toContain(p.url.split('#')[1]);
      expect(logs).not.toContain(p.code);
    }
  });

  it('is refused to an inspector not assigned to the meeting, and issues nothing', async () => {
    const m = await makeMeeting(t, { roster: 5, signIn: 2, open: false });
    const inspector = await loginAs(t, { role: 'inspector' });
    expect((await printSlips(inspector, m.meetingId, 3)).statusCode).toBe(403);
    expect(await slipRows(m.meetingId)).toBe(0);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: inspector.adminId });
    expect((await printSlips(inspector, m.meetingId, 3)).statusCode).toBe(200);
  });

  it('is refused before sign-in starts and after the seal', async () => {
    const session = await loginAs(t);
    const campaign = await call<{ id: number }>(t, session, 'POST', '/api/campaigns', { year: 2021, township: '插旗镇' });
    const unit = await call<{ id: number }>(t, session, 'POST', `/api/campaigns/${campaign.id}/units`, { name: '向阳村', kind: 'village', reserveCandidates: ['候选人1'] });
    await call(t, session, 'PUT', `/api/units/${unit.id}/team`, { members: [{ name: '成员1', position: '党支部书记', isSecretary: true }] });
    const draft = await call<{ id: number }>(t, session, 'POST', `/api/units/${unit.id}/meetings`, { liveK: 5 });
    const early = await printSlips(session, draft.id, 3);
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('BAD_STATE');

    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, session });
    await call(t, session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await call(t, session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    expect((await printSlips(session, m.meetingId, 3)).statusCode).toBe(409);
    expect(await slipRows(draft.id)).toBe(0);
    expect(await slipRows(m.meetingId)).toBe(0);
  });

  it('takes 1 to 1000 slips', async () => {
    const m = await makeMeeting(t, { roster: 5, signIn: 2, open: false });
    for (const count of [0, 1001, 2.5, '30']) expect((await printSlips(m.session, m.meetingId, count)).statusCode).toBe(400);
  });

  it('makes 500 slips (time and size printed; speed is judged by npm run bench, not here)', async () => {
    const m = await makeMeeting(t, { roster: 5, signIn: 2, open: false });
    const start = performance.now();
    const res = await printSlips(m.session, m.meetingId, 500);
    const ms = performance.now() - start;
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.toString('latin1').match(/\/Type \/Page\b(?!s)/g)).toHaveLength(42);
    console.log(`500 slips: ${ms.toFixed(0)} ms, ${(res.rawPayload.length / 1024).toFixed(0)} KiB`);
  });
});
