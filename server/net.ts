import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** IPv4 addresses of this machine that phones on the same Wi-Fi can reach (loopback excluded). */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) out.push(a.address);
    }
  }
  return out;
}

/** The base URL put into QR codes: PUBLIC_URL when set, else the first LAN address, else localhost. */
export function publicBaseUrl(publicUrl: string | undefined, port: number): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const lan = lanAddresses()[0];
  return `http://${lan ?? '127.0.0.1'}:${port}`;
}

/** The voter link carries the secret in the fragment, which browsers never send to a server or in a Referer. */
export function voterUrl(base: string, token: string): string {
  return `${base}/v/#${token}`;
}

/**
 * A client's address as the brakes key it: IPv4 as is (also when a dual-stack listener shows it as
 * `::ffff:a.b.c.d`), IPv6 in one canonical lower-case form with its /64 as the prefix (one machine can
 * take any number of addresses inside its own /64).
 */
export function clientAddress(address: string | undefined): { key: string; prefix: string | null } {
  const a = (address ?? '').trim().toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return { key: mapped[1]!, prefix: null };
  if (!a.includes(':')) return { key: a, prefix: null };
  const groups = expandIPv6(a);
  if (!groups) return { key: a, prefix: null };
  return { key: groups.join(':'), prefix: groups.slice(0, 4).join(':') };
}

function expandIPv6(a: string): string[] | null {
  let text = a;
  // An embedded IPv4 tail (::ffff:1.2.3.4 was handled above; others like 64:ff9b::1.2.3.4).
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((b0 << 8) | b1).toString(16) + ':' + ((b2 << 8) | b3).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ''));
}

/** One client's key for a brake: IPv4 as is (also IPv4-mapped); IPv6 by its /64. */
export function addressKey(address: string | undefined): string {
  const { key, prefix } = clientAddress(address);
  return prefix === null ? key : `${prefix}::/64`;
}

/**
 * The soft limit on open files of this process (each connection takes one), where the system says it
 * (Linux: /proc/self/limits); null elsewhere or when unlimited.
 */
export function openFilesLimit(limits = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limits, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/** Below this many open files a hall's phones, dashboards and a misbehaving machine can run the process out. */
export const LOW_OPEN_FILES = 4096;
