import type { Api } from './api.ts';
import { formatBytes } from './format.ts';

/** A chosen file's bytes as base64, for the JSON import routes. */
export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

export interface DownloadProgress {
  received: number;
  /** From Content-Length; null when the server did not say. */
  total: number | null;
  text: string;
}

/** POST and read the answer as a stream, reporting progress; resolves to the whole file. */
export async function downloadWithProgress(
  api: Api,
  path: string,
  body: unknown,
  onProgress: (p: DownloadProgress) => void,
): Promise<Blob> {
  return (await postForFile(api, path, body, onProgress)).blob;
}

/** The file name a download's Content-Disposition gives (filename* first, as RFC 6266 asks), or null. */
export function filenameOf(contentDisposition: string | null): string | null {
  if (!contentDisposition) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(contentDisposition);
  if (star) {
    try {
      return decodeURIComponent(star[1]!.trim());
    } catch {
      // fall back to the plain name
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(contentDisposition);
  return plain ? (plain[1] ?? plain[2] ?? '').trim() || null : null;
}

/** As downloadWithProgress, with the file name the server gave. */
export async function postForFile(
  api: Api,
  path: string,
  body: unknown,
  onProgress: (p: DownloadProgress) => void,
): Promise<{ blob: Blob; filename: string | null }> {
  const res = await api.raw('POST', path, body);
  const filename = filenameOf(res.headers.get('content-disposition'));
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const type = res.headers.get('content-type') ?? 'application/octet-stream';
  const report = (received: number) =>
    onProgress({ received, total, text: total ? `已下载 ${formatBytes(received)} / ${formatBytes(total)}` : `已下载 ${formatBytes(received)}` });
  if (!res.body) {
    const blob = await res.blob();
    report(blob.size);
    return { blob, filename };
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  report(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    report(received);
  }
  return { blob: new Blob(chunks as BlobPart[], { type }), filename };
}

/** Hand a blob to the browser as a file download. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
