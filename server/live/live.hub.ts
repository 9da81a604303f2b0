import type { LiveMessage } from './live.schemas.ts';

export interface Subscriber {
  send(message: string): void;
  close(): void;
}

/** In-process fan-out of live messages to the websockets of one meeting. */
export class LiveHub {
  readonly #subs = new Map<number, Set<Subscriber>>();

  subscribe(meetingId: number, sub: Subscriber): () => void {
    let set = this.#subs.get(meetingId);
    if (!set) this.#subs.set(meetingId, (set = new Set()));
    set.add(sub);
    return () => {
      set.delete(sub);
      if (set.size === 0) this.#subs.delete(meetingId);
    };
  }

  publish(message: LiveMessage): void {
    const set = this.#subs.get(message.meetingId);
    if (!set) return;
    const text = JSON.stringify(message);
    for (const s of set) {
      try {
        s.send(text);
      } catch {
        // A dead socket is dropped by its own close handler.
      }
    }
  }

  subscriberCount(meetingId: number): number {
    return this.#subs.get(meetingId)?.size ?? 0;
  }

  closeAll(): void {
    for (const set of this.#subs.values()) for (const s of set) s.close();
    this.#subs.clear();
  }
}
