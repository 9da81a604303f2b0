import { describeError } from './api.ts';

export type PageError = { message: string; hint: string };

/**
 * What a page shows about the last thing it was asked to do: busy while it runs, then either the
 * line saying it is done or the error in words. One per page; its buttons are disabled while busy.
 */
export class PageAction {
  busy = $state(false);
  error = $state<PageError | null>(null);
  saved = $state<string | null>(null);

  /** Runs `action`; on success shows `done` (pages that navigate away have nothing to show). */
  async run(action: () => Promise<unknown>, done?: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.saved = null;
    try {
      await action();
      this.saved = done ?? null;
    } catch (e) {
      this.error = describeError(e);
    } finally {
      this.busy = false;
    }
  }

  /** For loads outside `run`: show why they failed. */
  fail(e: unknown): void {
    this.error = describeError(e);
  }
}
