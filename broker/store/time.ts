/** Stores keep integer milliseconds; the interface speaks ISO 8601 UTC. */
export function msToIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function msToIsoOrNull(ms: number | null): string | null {
  return ms === null ? null : msToIso(ms);
}
