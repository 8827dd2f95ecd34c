// The address of `steadfast run --http`: `host:port`, `[ipv6]:port`, or a port alone (127.0.0.1).

/** Where `--http` serves. */
export interface HostPort {
  host: string;
  port: number;
}

const HOST = /^[A-Za-z0-9._-]{1,253}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** Parses `host:port`, `[ipv6]:port` or `port`; a problem comes back as a one-line string. */
export function parseHostPort(text: string): HostPort | string {
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(text);
  const plain = /^([^:[\]]*):([^:]*)$/.exec(text);
  let host = '127.0.0.1';
  let portText = text;
  if (bracketed !== null) {
    [host, portText] = [bracketed[1] ?? '', bracketed[2] ?? ''];
    if (!IPV6.test(host)) return `must be host:port with an IPv6 address in brackets (e.g. [::1]:9464), got "${text}"`;
  } else if (plain !== null) {
    [host, portText] = [plain[1] ?? '', plain[2] ?? ''];
    if (!HOST.test(host)) return `must be host:port (e.g. 127.0.0.1:9464), got "${text}"`;
  } else if (text.includes(':') || text.includes('[')) {
    return `must be host:port (an IPv6 address in brackets: [::1]:9464), got "${text}"`;
  }
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) return `needs a port in [0, 65535] (0 picks a free one), got "${text}"`;
  return { host, port };
}
