/**
 * The ballot steps and the review: the chunk the phone fetches right after its first screen (see
 * lib/screens.ts), while the voter waits for the meeting to open.
 */
export { default as BallotPart } from './components/BallotPart.svelte';
export { default as Review } from './components/Review.svelte';
