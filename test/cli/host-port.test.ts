import { describe, expect, it } from 'vitest';
import { parseHostPort } from '../../src/cli/host-port.js';

describe('parseHostPort (--http)', () => {
  it('reads host:port, [ipv6]:port and a port alone (on 127.0.0.1)', () => {
    expect(parseHostPort('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseHostPort('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseHostPort('[::1]:65535')).toEqual({ host: '::1', port: 65_535 });
    expect(parseHostPort('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it.each([
    ['nope:xx', 'needs a port in [0, 65535] (0 picks a free one), got "nope:xx"'],
    ['127.0.0.1:65536', 'needs a port in [0, 65535] (0 picks a free one), got "127.0.0.1:65536"'],
    ['127.0.0.1:', 'needs a port in [0, 65535] (0 picks a free one), got "127.0.0.1:"'],
    [':9464', 'must be host:port (e.g. 127.0.0.1:9464), got ":9464"'],
    ['bad host:1', 'must be host:port (e.g. 127.0.0.1:9464), got "bad host:1"'],
    ['::1:9464', 'must be host:port (an IPv6 address in brackets: [::1]:9464), got "::1:9464"'],
    ['[zz]:1', 'must be host:port with an IPv6 address in brackets (e.g. [::1]:9464), got "[zz]:1"'],
    ['', 'needs a port in [0, 65535] (0 picks a free one), got ""'],
  ])('refuses %j with one line', (text, problem) => {
    expect(parseHostPort(text)).toBe(problem);
  });
});
