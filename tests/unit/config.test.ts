/**
 * The quick start cannot mix demo data into real data: `npm run demo` keeps its own folder unless told
 * otherwise, and a second server on a taken port says which one to stop instead of a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { repoRoot } from '../browser/ui-build.ts';

describe('where the data goes', () => {
  it('./data normally, ./data-demo for the demo, DATA_DIR when given', () => {
    expect(loadConfig({}).DATA_DIR).toBe('./data');
    expect(loadConfig({}, { demo: true }).DATA_DIR).toBe('./data-demo');
    expect(loadConfig({ DATA_DIR: '/srv/ceping' }, { demo: true }).DATA_DIR).toBe('/srv/ceping');
  });

  describe('the server started twice', () => {
    let busy: Server;
    let port: number;
    let cwd: string;
    beforeAll(async () => {
      busy = createServer();
      await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
      port = (busy.address() as { port: number }).port;
      cwd = mkdtempSync(path.join(tmpdir(), 'ceping-start-'));
    });
    afterAll(async () => {
      await new Promise((r) => busy.close(r));
      rmSync(cwd, { recursive: true, force: true });
    });

    it('the demo writes into ./data-demo, and a taken port is named with how to stop the other server', () => {
      const run = spawnSync(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join(repoRoot, 'server/main.ts'), '--demo'], {
        cwd, encoding: 'utf8', timeout: 60_000,
        env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), SCRYPT_LOG_N: '10', LOG_LEVEL: 'silent', PUBLIC_URL: 'http://127.0.0.1:8080' },
      });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain(`端口 ${port} 已被占用`);
      expect(run.stderr).toContain('Ctrl+C');
      expect(run.stderr).not.toContain('    at ');
      expect(existsSync(path.join(cwd, 'data-demo', 'ceping.db'))).toBe(true);
      expect(existsSync(path.join(cwd, 'data'))).toBe(false);
    });
  });
});
