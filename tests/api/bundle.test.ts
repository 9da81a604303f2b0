/**
 * `npm start` runs the server as one bundle (dist/server/main.mjs, scripts/build-server.mjs) on plain node,
 * where `import.meta.url` is the bundle's, not each source file's. Everything the server reads or starts
 * beside its own code must still be found: the pages it serves, the curve worker (redeeming and casting),
 * the file worker (a roster import), the slip fonts (the printed PDF).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Form } from '../../server/forms/form.schemas.ts';
import { fullPackage } from '../helpers/packages.ts';
import { SERVER_NODE_FLAGS } from '../../scripts/build-server.mjs';
import { castOver, freePort, HttpAdmin, redeemOver, serverBundle, startServer, type ServerProcess } from '../helpers/server-process.ts';

let dir: string;
let server: ServerProcess;
let admin: HttpAdmin;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ceping-bundle-'));
  server = await startServer(dir, await freePort());
  admin = new HttpAdmin(server.base);
  await admin.setup(server.setupCode!);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the server as npm start runs it (the bundle on plain node)', () => {
  it('is the bundle, and no TypeScript loader is in the process', async () => {
    expect(server.proc.spawnargs.slice(1)).toEqual([...SERVER_NODE_FLAGS, await serverBundle()]);
    // As npm start runs it: package.json's start and demo give node the same flags.
    const scripts = (JSON.parse(readFileSync(path.join(process.cwd(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'demo']) expect(scripts[name]).toContain(`node ${SERVER_NODE_FLAGS.join(' ')} dist/server/main.mjs`);
    expect(server.proc.spawnargs.join(' ')).not.toMatch(/tsx|\.ts\b/);
  });

  it('loads the libraries only some requests need when they are needed, not at start', async () => {
    // Each is several MiB of the process's memory (bench/README.md, "The optimising compiler, sooner"):
    // the Word report's library, the PostgreSQL driver on a server of an SQLite file, and libsodium on the
    // main thread while the curve workers hold their own. A static import in the bundle is evaluated at start.
    const bundle = readFileSync(await serverBundle(), 'utf8');
    const staticImports = [...bundle.matchAll(/^import\s[^;]*?\sfrom\s+"([^"]+)"/gm)].map((m) => m[1]);
    expect(staticImports).toContain('fastify');
    for (const lazy of ['docx', 'pg', 'libsodium-wrappers-sumo', 'exceljs', 'pdfkit']) expect(staticImports, lazy).not.toContain(lazy);
    expect(bundle).toContain('import("docx")');
    expect(bundle).toContain('import("libsodium-wrappers-sumo")');
  });

  it('serves the admin pages and the phone page from dist/', async () => {
    for (const page of ['/admin/', '/v/']) {
      const res = await fetch(server.base + page);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/<html/i);
    }
  });

  it('imports a roster (file worker), prints slips (fonts), redeems and casts (curve worker)', async () => {
    const campaign = await admin.call<{ id: number }>('POST', '/api/campaigns', { year: 2021, township: '插旗镇' });
    const unit = await admin.call<{ id: number }>('POST', `/api/campaigns/${campaign.id}/units`, { name: '农技站', kind: 'station', reserveCandidates: ['候选人1'] });
    await admin.call('PUT', `/api/units/${unit.id}/team`, { members: [{ name: '站长', position: '站长', isSecretary: true }] });
    const meeting = await admin.call<{ id: number }>('POST', `/api/units/${unit.id}/meetings`, {});

    const csv = Buffer.from('姓名,类别\n张三,职工\n李四,职工\n', 'utf8');
    const imported = await admin.call<{ committed: boolean }>('POST', `/api/meetings/${meeting.id}/roster/import`, { filename: '签到表.csv', dataBase64: csv.toString('base64'), commit: true });
    expect(imported.committed).toBe(true);
    const { entries } = await admin.call<{ entries: { id: number; name: string }[] }>('GET', `/api/meetings/${meeting.id}/roster`);
    expect(entries.map((e) => e.name).sort()).toEqual(['张三', '李四']);

    await admin.call('POST', `/api/meetings/${meeting.id}/start-signin`);
    const pdf = await fetch(`${server.base}/api/meetings/${meeting.id}/slips.pdf`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, origin: admin.origin, 'content-type': 'application/json' },
      body: JSON.stringify({ count: 2 }),
    });
    expect(pdf.status).toBe(200);
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.includes(Buffer.from('/FontFile'))).toBe(true);

    const tokens = [];
    for (const e of entries) {
      const signed = await admin.call<{ ticket: { secret: string } }>('POST', `/api/meetings/${meeting.id}/roster/${e.id}/sign-in`, { handout: 'qr' });
      tokens.push(await redeemOver(server.base, signed.ticket.secret));
    }
    const token = tokens[0]!;
    await admin.call('POST', `/api/meetings/${meeting.id}/open-voting`, {});
    const { form } = await admin.call<{ form: Form }>('GET', `/api/meetings/${meeting.id}/form`);
    const first = await castOver(server.base, token, fullPackage(form, 1, '好'));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ alreadyRecorded: false });
    // The worker's check is real: a token whose output was not made with the meeting's key is refused
    // (npm start's bundle has the bench's switch, scripts/build-server.mjs, compiled to false).
    expect(readFileSync(await serverBundle(), 'utf8')).toMatch(/BENCH_WITHOUT_TOKEN_CHECK = false;/);
    const forged = { ...tokens[1]!, output: token.output };
    const refused = await castOver(server.base, forged, fullPackage(form, 1, '好'));
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
  });
});
