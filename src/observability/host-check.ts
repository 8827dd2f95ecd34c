/**
 * The Host header values a server bound to `host`:`port` accepts: `host:port` (IPv6 in brackets),
 * plain `host` on port 80, and the `extra` names given (each with the port, or bare on port 80).
 * Anything else is refused: a page of another site that rebinds its DNS name to this address
 * still sends its own name, so it cannot read the dashboard or the metrics.
 */
export function allowedHosts(host: string, port: number, extra: readonly string[] = []): Set<string> {
  const allowed = new Set<string>();
  for (const name of [host, ...extra]) {
    const shown = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
    allowed.add(`${shown}:${port}`.toLowerCase());
    if (port === 80) allowed.add(shown.toLowerCase());
  }
  return allowed;
}

/** True when the request's Host header is one of `allowed` (compared without case). */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  return header !== undefined && allowed.has(header.toLowerCase());
}
