import type { BallotBox } from '../../server/ballots/ballot-box.ts';

/**
 * A job that holds the ballot box's write queue (its batch's transaction open) until released; resolves
 * once it runs, so what is queued meanwhile lands together in the next batch. `held` settles with the
 * job's batch; a caller that does not await it loses nothing (a failed batch is not an unhandled rejection).
 */
export async function holdQueue(box: BallotBox, ms = 30_000): Promise<{ release: () => void; held: Promise<void> }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let running = false;
  const held = box.run(async () => {
    running = true;
    await gate;
  });
  held.catch(() => undefined);
  const end = Date.now() + ms;
  while (!running) {
    if (Date.now() > end) throw new Error('timed out waiting for the holding job to run');
    await new Promise((r) => setTimeout(r, 5));
  }
  return { release, held };
}
