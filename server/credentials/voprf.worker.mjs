// The elliptic-curve work of the two-phase credentials, off the event loop: a worker thread of
// VoprfPool (voprf-pool.ts). Plain JavaScript so it runs the same under tsx, vitest and node.
import { parentPort } from 'node:worker_threads';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { tokenOutput } from './token-output.mjs';

const voprf = ristretto255_oprf.voprf;

parentPort.on('message', (task) => {
  try {
    if (task.op === 'evaluate') {
      parentPort.postMessage({ id: task.id, output: tokenOutput(task.secretKey, task.input) });
    } else if (task.op === 'blindEvaluate') {
      const r = voprf.blindEvaluate(task.secretKey, task.publicKey, task.blinded, () => task.random);
      parentPort.postMessage({ id: task.id, evaluated: r.evaluated, proof: r.proof });
    } else {
      parentPort.postMessage({ id: task.id, error: `unknown op ${task.op}` });
    }
  } catch (e) {
    parentPort.postMessage({ id: task.id, error: String(e && e.message ? e.message : e) });
  }
});
