/**
 * The parts of the page that are chunks of their own. The first screen (the code entry, or the
 * redemption of a scanned ticket, then the waiting screen) needs neither; the ballot steps are fetched
 * as soon as that screen is up, so they are there long before voting opens.
 */
import { LazyModule } from './lazy.svelte.ts';

export const steps = new LazyModule(() => import('../steps.ts'));
/** The receipt check after the meeting: fetched only when it is opened. */
export const check = new LazyModule(() => import('../components/CheckReceipt.svelte'));
