// The elliptic-curve work of the two-phase credentials, off the event loop: a worker thread of
// VoprfPool (voprf-pool.ts). Plain JavaScript so it runs the same under tsx, vitest and node. Both
// operations run on libsodium: the cast's check (token-output.mjs) and the redemption's evaluation with
// its proof (blind-evaluate.mjs), each held to @noble/curves (voprf.ts) in its unit test.
import { parentPort } from 'node:worker_threads';
import { blindEvaluate } from './blind-evaluate.mjs';
import { tokenOutput } from './token-output.mjs';

/** One task's answer (its error as text: an Error does not survive the trip). */
function answer(task) {
  try {
    if (task.op === 'evaluate') return { id: task.id, output: tokenOutput(task.secretKey, task.input) };
    if (task.op === 'blindEvaluate') {
      const r = blindEvaluate(task.secretKey, task.publicKey, task.blinded, task.random);
      return { id: task.id, evaluated: r.evaluated, proof: r.proof };
    }
    return { id: task.id, error: `unknown op ${task.op}` };
  } catch (e) {
    return { id: task.id, error: String(e && e.message ? e.message : e) };
  }
}

// A message holds the tasks handed to this worker in one turn of the main thread's event loop
// (voprf-pool.ts). Each is answered as soon as it is done, not all at the end: the pool refills a worker
// as its answers come back, and a worker answering sixteen at once would idle between refills.
parentPort.on('message', (tasks) => {
  for (const task of tasks) parentPort.postMessage(answer(task));
});
