/**
 * V8's tiering is tuned by the server itself (server/tiering.ts), not on node's command line, where a
 * flag a later V8 does not know would stop the server before it starts (node exits with code 9).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tuneTiering } from '../../server/tiering.ts';
import { SERVER_NODE_FLAGS } from '../../scripts/build-server.mjs';

describe('V8 tiering', () => {
  it('is tuned on V8 11 (Node 20), where it was measured, and left alone on any other V8', () => {
    expect(tuneTiering('11.3.244.8-node.33')).toBe(true);
    expect(tuneTiering(process.versions.v8)).toBe(process.versions.v8.startsWith('11.'));
    expect(tuneTiering('12.4.254.21-node.33')).toBe(false);
    expect(tuneTiering('13.6.233.10-node.27')).toBe(false);
  });

  it('is not on node\'s command line: a node refuses a V8 flag it does not know', () => {
    expect(SERVER_NODE_FLAGS.join(' ')).not.toContain('interrupt-budget');
    // What the command line would do with a flag this V8 lacks: the server would never start.
    const r = spawnSync(process.execPath, ['--a-v8-flag-no-version-has', '-e', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(9);
    // Every flag the server is started with is one this node accepts.
    expect(spawnSync(process.execPath, [...SERVER_NODE_FLAGS, '-e', '0']).status).toBe(0);
  });
});
