/**
 * npm run bench — casting throughput with group commit, as a ratio against a baseline run in the
 * same process at the same time (the machines here are shared and noisy; absolute times mean little).
 *
 * group:    N phones submit at once; the write queue groups them into shared transactions.
 * baseline: the same N ballots submitted one after another, so each is its own durable commit.
 * Rounds alternate between the two so both see the same machine load.
 */
import { makeTestApp } from '../tests/helpers/harness.ts';
import { makeMeeting } from '../tests/helpers/meeting.ts';
import { castPayload, type PhoneToken } from '../tests/helpers/phone.ts';
import type { Form } from '../server/forms/form.schemas.ts';

const N = Number(process.env.BENCH_BALLOTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function pkg(form: Form) {
  const out: Record<string, unknown> = {};
  for (const p of form.parts) {
    if (p.kind === 'rating') out[p.key] = { grades: Object.fromEntries(p.subjects.map((s) => [s.key, p.grades[1]!.key])) };
    if (p.kind === 'recommend') out[p.key] = { picks: [], writeIns: [] };
    if (p.kind === 'comment') out[p.key] = { text: '' };
  }
  return out;
}

async function run(mode: 'group' | 'baseline'): Promise<{ ms: number; commits: number }> {
  const t = await makeTestApp({ env: { LOG_LEVEL: 'silent' } });
  try {
    const m = await makeMeeting(t, { roster: N, signIn: N });
    const body = pkg(m.form!);
    const cast = (token: PhoneToken) =>
      t.app.inject({ method: 'POST', url: '/api/voter/cast', payload: castPayload(token, body) }).then((r) => {
        if (r.statusCode !== 200) throw new Error(r.body);
      });
    const before = t.app.services.ballots.commits;
    const start = process.hrtime.bigint();
    if (mode === 'group') await Promise.all(m.tokens.map(cast));
    else for (const token of m.tokens) await cast(token);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return { ms, commits: t.app.services.ballots.commits - before };
  } finally {
    await t.close();
  }
}

const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const base = await run('baseline');
  const group = await run('group');
  const ratio = base.ms / group.ms;
  ratios.push(ratio);
  process.stdout.write(
    `round ${r + 1}: baseline ${base.ms.toFixed(0)} ms in ${base.commits} commits · group ${group.ms.toFixed(0)} ms in ${group.commits} commits · speed-up ×${ratio.toFixed(2)}\n`,
  );
}
ratios.sort((a, b) => a - b);
process.stdout.write(`median speed-up of group commit over one-commit-per-ballot, ${N} ballots: ×${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}\n`);
