// Time per blindEvaluate (RFC 9497 VOPRF evaluation with its proof): @noble/curves against libsodium
// (server/credentials/blind-evaluate.mjs), same keys, elements and random bytes, alternating rounds on
// this thread. `node bench/blind-evaluate-time.mjs [rounds] [per round]`; a few seconds of one core.
import { randomBytes } from 'node:crypto';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { blindEvaluate } from '../server/credentials/blind-evaluate.mjs';

const voprf = ristretto255_oprf.voprf;
const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 200);

const cases = Array.from({ length: perRound }, () => {
  const key = voprf.generateKeyPair();
  return { key, blinded: voprf.blind(randomBytes(32)).blinded, random: new Uint8Array(randomBytes(48)) };
});
const runs = {
  noble: (c) => voprf.blindEvaluate(c.key.secretKey, c.key.publicKey, c.blinded, () => c.random),
  libsodium: (c) => blindEvaluate(c.key.secretKey, c.key.publicKey, c.blinded, c.random),
};
for (const run of Object.values(runs)) for (const c of cases.slice(0, 50)) run(c); // warm up both

// Wall time and this process's CPU time (user + system): on a busy machine the wall time includes waits.
const times = { noble: [], libsodium: [] };
const cpu = { noble: [], libsodium: [] };
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(runs)) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (const c of cases) run(c);
    const c1 = process.cpuUsage(c0);
    times[name].push(Number(process.hrtime.bigint() - t0) / 1e6 / perRound);
    cpu[name].push((c1.user + c1.system) / 1e3 / perRound);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of Object.entries(times)) {
  console.log(`${name.padEnd(9)} median ${median(xs).toFixed(3)} ms wall, ${median(cpu[name]).toFixed(3)} ms CPU per blindEvaluate (wall by round: ${xs.map((x) => x.toFixed(3)).join(', ')})`);
}
console.log(`ratio ${(median(times.noble) / median(times.libsodium)).toFixed(1)}×`);
