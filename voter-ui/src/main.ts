import './polyfills.ts';
import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { httpApi } from './lib/api.ts';
import { browserStorage, DraftStore } from './lib/draft-store.ts';
import { isCheckHash } from './lib/receipt.ts';
import { steps } from './lib/screens.ts';
import { VoterSession } from './lib/session.svelte.ts';

const drafts = new DraftStore(browserStorage('localStorage'));
drafts.sweep();
const session = new VoterSession({
  api: httpApi,
  drafts,
  tab: browserStorage('sessionStorage'),
  // The curve code is a chunk of its own: loaded only where BigInt exists (it needs it as it loads).
  crypto: () => (typeof BigInt === 'function' ? import('./lib/token-crypto.ts') : Promise.resolve(null)),
});

/**
 * Read the ticket from the fragment, then take it out of the address bar (screenshots, shared links).
 * "#check" (the receipt check) is no secret and stays, so a reload or a bookmark keeps it.
 */
function startFromAddress(fromLink: boolean): void {
  const hash = location.hash;
  if (isCheckHash(hash)) return session.openCheck(fromLink);
  if (hash && history.replaceState) history.replaceState(null, '', location.pathname + location.search);
  session.start(hash);
}

startFromAddress(false);
window.addEventListener('hashchange', () => {
  if (location.hash.length > 1) startFromAddress(true);
  // Back from "#check" (the phone's back button, or the page's 返回).
  else if (session.screen.name === 'check') session.closeCheck();
});
window.addEventListener('online', () => session.wake());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') session.wake();
});

const target = document.getElementById('app')!;
target.textContent = '';
mount(App, { target, props: { session } });

// The first screen is up: fetch the ballot steps now, while the voter types the code or waits for the
// meeting to open, so they are on the phone before the hall's Wi-Fi is busiest (when voting opens).
// Not on the receipt check after the meeting (its own chunk comes as it opens; the steps, if ever needed).
let prefetched = false;
const prefetch = () => {
  if (prefetched) return;
  prefetched = true;
  if (session.screen.name !== 'check') void steps.load();
};
requestAnimationFrame(() => setTimeout(prefetch, 0));
// A page opened in the background gets no animation frame.
setTimeout(prefetch, 500);
window.addEventListener('online', () => {
  if (steps.failed) void steps.load();
});
