/**
 * `npm run soak:crash [cycles] [burst]`: kill -9 the real server at random moments during bursts of
 * phone ballots, a hundred times by default, and check what tests/helpers/crash-cycles.ts lists after
 * every restart. Exits 1 on the first broken promise it saw (all are printed).
 */
import { runCrashCycles } from '../tests/helpers/crash-cycles.ts';

const cycles = Number(process.argv[2] ?? 100);
const burst = Number(process.argv[3] ?? 16);
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const started = Date.now();
console.log(`crash soak: ${cycles} cycles of ${burst} ballots, seed ${seed}`);
const report = await runCrashCycles({ cycles, burst, seed, log: (line) => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s  ${line}`) });
console.log(
  `\n${report.cycles} kills; ${report.acknowledged} ballots acknowledged before a kill, all found again; ` +
    `${report.inFlight} without reply, ${report.inFlightRecorded} of them already recorded; ${report.killedMidBurst} kills with replies outstanding; ` +
    `${report.problems.length} problems (${((Date.now() - started) / 1000).toFixed(0)} s)`,
);
process.exit(report.problems.length === 0 ? 0 : 1);
