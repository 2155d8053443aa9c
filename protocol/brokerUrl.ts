import { z } from 'zod';

/**
 * `mqtt://` or `mqtts://`, host and optional port, nothing else. Credentials belong in
 * `username`/`password`, never in the URL: a URL gets logged, a password must not be
 * (protocol/logger.ts redacts `password` keys, it cannot redact inside a string).
 */
export const brokerUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL (expected mqtt://host:port or mqtts://host:port)' });
    return;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    ctx.addIssue({ code: 'custom', message: `protocol must be mqtt: or mqtts:, got ${url.protocol}` });
  }
  if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'no host' });
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'put credentials in "username" and "password", not in the URL' });
  }
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'no path, query or fragment: only mqtt[s]://host[:port]' });
  }
});

/** The broker's address for logs: scheme, host and port, never credentials. */
export function brokerForLogs(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}
