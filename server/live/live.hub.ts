import type { DbOrTrx } from '../db/database.ts';
import type { LiveMessage } from './live.schemas.ts';

export interface Subscriber {
  send(message: string): void;
  close(): void;
}

/** Carries live messages to the other server processes of one database (live.relay.ts); none on SQLite. */
export interface LiveRelay {
  /** Inside a transaction: sent to the others when it commits, in commit order. */
  announce(trx: DbOrTrx, message: LiveMessage): Promise<void>;
  /** After a commit: sent to the others now. */
  send(message: LiveMessage): void;
  close(): Promise<void>;
}

/**
 * Fan-out of live messages to the websockets of one meeting in this process; with a relay, to every
 * other server process of the database too. Snapshots only ever move forward: one relayed late, after a
 * newer one, is not shown again.
 */
export class LiveHub {
  readonly #subs = new Map<number, Set<Subscriber>>();
  /** The count of the newest snapshot delivered per meeting. */
  readonly #lastSnapshot = new Map<number, number>();
  #relay: LiveRelay | null = null;

  setRelay(relay: LiveRelay): void {
    this.#relay = relay;
  }

  subscribe(meetingId: number, sub: Subscriber): () => void {
    let set = this.#subs.get(meetingId);
    if (!set) this.#subs.set(meetingId, (set = new Set()));
    set.add(sub);
    return () => {
      set.delete(sub);
      if (set.size === 0) this.#subs.delete(meetingId);
    };
  }

  /** After a commit: to this process's subscribers and to the other processes. */
  publish(message: LiveMessage): void {
    this.deliver(message);
    this.#relay?.send(message);
  }

  /** Inside the transaction that made the change: the other processes hear of it when it commits. */
  async announce(trx: DbOrTrx, message: LiveMessage): Promise<void> {
    await this.#relay?.announce(trx, message);
  }

  /** To this process's subscribers only. */
  deliver(message: LiveMessage): void {
    if (message.type === 'snapshot' && !message.snapshot.final) {
      const last = this.#lastSnapshot.get(message.meetingId);
      if (last !== undefined && message.snapshot.count <= last) return;
    }
    if (message.type === 'snapshot') this.#lastSnapshot.set(message.meetingId, message.snapshot.count);
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

  /** Meetings with a subscriber in this process (the relay refreshes them after a lost connection). */
  watchedMeetings(): number[] {
    return [...this.#subs.keys()];
  }

  closeAll(): void {
    for (const set of this.#subs.values()) for (const s of set) s.close();
    this.#subs.clear();
  }
}
