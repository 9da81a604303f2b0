/**
 * npx tsx bench/phone-bytes.ts — section 5 of `npm run bench` alone: builds the pages if their sources
 * changed (as `npm start` does), starts the server as `npm start` would on a throwaway data folder, and
 * prints what a phone downloads for its first screen and its first ballot screen (bench/lib/phone-bytes.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildPages, startCeping } from './lib/processes.ts';
import { PHONE_BYTES_TARGET, reportPhoneBytes } from './lib/phone-bytes.ts';

const say = (s = '') => process.stdout.write(`${s}\n`);
buildPages();
const dir = mkdtempSync(path.join(tmpdir(), 'ceping-phone-bytes-'));
const server = await startCeping(path.join(dir, 'data'), path.join(dir, 'server.log'));
try {
  const pages = await reportPhoneBytes(server.base, say);
  const total = pages.gzip.ballotScreen.total;
  say(`first ballot screen, gzip: ${total} bytes — ${total <= PHONE_BYTES_TARGET ? 'within' : 'OVER'} the target of ${PHONE_BYTES_TARGET}`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
