import { describe, expect, it } from 'vitest';
import { Serial } from '../../server/shared/serial.ts';

describe('Serial', () => {
  it('never runs two pieces of work at once, and keeps call order', async () => {
    const serial = new Serial();
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        serial.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 3));
          order.push(i);
          running--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('hands a failure to its own caller and goes on with the next', async () => {
    const serial = new Serial();
    const a = serial.run(async () => {
      throw new Error('wrong password');
    });
    const b = serial.run(async () => 'next');
    await expect(a).rejects.toThrow('wrong password');
    await expect(b).resolves.toBe('next');
  });
});
