import './polyfills.ts';
import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { httpApi } from './lib/api.ts';
import { browserStorage, DraftStore, newNonce } from './lib/draft-store.ts';
import { VoterSession } from './lib/session.svelte.ts';

const drafts = new DraftStore(browserStorage('localStorage'));
drafts.sweep();
const session = new VoterSession({
  api: httpApi,
  drafts,
  tab: browserStorage('sessionStorage'),
  newNonce: () => newNonce(),
});

/** Read the credential from the fragment, then take it out of the address bar (screenshots, shared links). */
function startFromAddress(): void {
  const hash = location.hash;
  if (hash && history.replaceState) history.replaceState(null, '', location.pathname + location.search);
  session.start(hash);
}

startFromAddress();
window.addEventListener('hashchange', () => {
  if (location.hash.length > 1) startFromAddress();
});
window.addEventListener('online', () => session.wake());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') session.wake();
});

const target = document.getElementById('app')!;
target.textContent = '';
mount(App, { target, props: { session } });
