/**
 * Client ids, usernames and topics come from the network: a log line gets a bounded,
 * printable-ASCII copy, so a hostile client cannot forge log lines or fill the disk.
 */
export function printable(text: string, maxLength = 128): string {
  const clipped = text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
  return clipped.replace(/[^\x20-\x7e…]/g, '?');
}
