/**
 * npx tsx bench/slips.ts — printing N slips as a PDF, as a ratio against a baseline run in the same
 * process (the machines here are shared and noisy; absolute times mean little on their own).
 *
 * baseline: the same N QR codes encoded with qrcode and nothing else: the work no layout can avoid.
 * pdf:      renderSlipsPdf for those N slips (QR encoding, runs, text, cut marks, fonts, deflate).
 * route:    POST /api/meetings/:id/slips.pdf end to end, issuing N credentials in SQLite first.
 * Rounds alternate so all three see the same machine load. Also printed: the longest the event loop
 * stood still while the PDF was made (slips can be printed while phones are casting ballots).
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import QRCode from 'qrcode';
import { makeTestApp } from '../tests/helpers/harness.ts';
import { makeMeeting } from '../tests/helpers/meeting.ts';
import { renderSlipsPdf } from '../server/slips/slips.pdf.ts';
import { CODE_ALPHABET } from '../server/credentials/secrets.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const N = Number(process.env.BENCH_SLIPS ?? (QUICK ? 120 : 500));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));

const code = () => [...randomBytes(8)].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('').replace(/^(.{4})/, '$1-');
const slips = Array.from({ length: N }, (_, i) => ({ shortCode: code(), url: `http://192.168.1.5:8080/v/#${randomBytes(16).toString("base64url")}`, serial: i + 1 }));

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

async function route(): Promise<{ ms: number; bytes: number }> {
  const t = await makeTestApp({ env: { LOG_LEVEL: 'silent' } });
  try {
    const m = await makeMeeting(t, { roster: 5, signIn: 1, open: false });
    const r = await timed(() => t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/slips.pdf`, headers: m.session.headers, payload: { count: N } }));
    if (r.value.statusCode !== 200) throw new Error(r.value.body);
    return { ms: r.ms, bytes: r.value.rawPayload.length };
  } finally {
    await t.close();
  }
}

// One unmeasured run loads the fonts, pdfkit and the JIT.
await renderSlipsPdf(slips.slice(0, 12), { entryUrl: 'http://192.168.1.5:8080/v', createdAt: new Date() });

const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const base = await timed(() => slips.map((s) => QRCode.create(s.url, { errorCorrectionLevel: 'M' }).modules.size));
  const stall = monitorEventLoopDelay({ resolution: 5 });
  stall.enable();
  const pdf = await timed(() => renderSlipsPdf(slips, { entryUrl: 'http://192.168.1.5:8080/v', createdAt: new Date() }));
  stall.disable();
  const end = await route();
  const ratio = pdf.ms / base.ms;
  ratios.push(ratio);
  process.stdout.write(
    `round ${r + 1}: qr codes alone ${base.ms.toFixed(0)} ms · pdf ${pdf.ms.toFixed(0)} ms, ${(pdf.value.length / 1024).toFixed(0)} KiB, ${Math.ceil(N / 12)} pages · ` +
      `longest stall ${(stall.max / 1e6).toFixed(0)} ms · route with issuing ${end.ms.toFixed(0)} ms · pdf/qr ×${ratio.toFixed(2)}\n`,
  );
}
ratios.sort((a, b) => a - b);
process.stdout.write(`median cost of the slips PDF over encoding its ${N} QR codes alone: ×${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}\n`);
