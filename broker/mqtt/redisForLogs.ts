/** The Redis server for logs: scheme, host, port and database, never the password a URL may carry. */
export function redisForLogs(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}
