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
