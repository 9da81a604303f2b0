/**
 * The start-up note about a low open-files limit (server/main.ts): each connection takes a file
 * descriptor, and a default `ulimit -n` of 1,024 can run out in a hall (README, "Odd requests").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFilesLimit } from '../../server/net.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('openFilesLimit', () => {
  it('reads the soft limit from a limits file as Linux writes it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ceping-limits-'));
    try {
      const file = path.join(dir, 'limits');
      writeFileSync(file, LIMITS);
      expect(openFilesLimit(file)).toBe(1024);
      writeFileSync(file, LIMITS.replace('1024 ', 'unlimited'));
      expect(openFilesLimit(file)).toBeNull();
      expect(openFilesLimit(path.join(dir, 'missing'))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.platform === 'linux')("agrees with the shell's ulimit -n for this process's limits", () => {
    const shell = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
    expect(openFilesLimit()).toBe(shell);
  });
});
