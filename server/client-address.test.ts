import { describe, expect, it } from 'vitest';
import { formatIpAddress, isInRange, parseIpAddress, parseIpRange, rateLimitKeysOf, resolveClientAddress, type IpRange } from './client-address.ts';

function range(text: string): IpRange {
  const parsed = parseIpRange(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.range;
}

function canonical(text: string): string | undefined {
  const address = parseIpAddress(text);
  return address && formatIpAddress(address);
}

describe('parseIpAddress', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:1:1:1:1:1:0', '2001:db8:1:1:1:1:1:0'],
    ['1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1'],
    ['fe80::', 'fe80::'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('reads %s as %s', (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  it.each([
    '',
    '192.0.2',
    '192.0.2.1.5',
    '192.0.2.256',
    '192.0.2.01',
    '192.0.2.-1',
    ' 192.0.2.1',
    '0x7f.0.0.1',
    '2130706433',
    ':::',
    '1::2::3',
    ':1',
    '1:',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::1',
    'fe80::1%eth0',
    'fe80::1%25eth0',
    '[::1]',
    '::1.2.3',
    '1:2:3:4:5:6:7:1.2.3.4',
    'unknown',
    'localhost',
  ])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });
});

describe('parseIpRange', () => {
  it('matches addresses inside a block and nothing outside it', () => {
    expect(isInRange(parseIpAddress('10.200.3.4')!, range('10.0.0.0/8'))).toBe(true);
    expect(isInRange(parseIpAddress('11.0.0.1')!, range('10.0.0.0/8'))).toBe(false);
    expect(isInRange(parseIpAddress('172.31.255.255')!, range('172.16.0.0/12'))).toBe(true);
    expect(isInRange(parseIpAddress('172.32.0.0')!, range('172.16.0.0/12'))).toBe(false);
    expect(isInRange(parseIpAddress('2001:db8:ffff::1')!, range('2001:db8::/32'))).toBe(true);
    expect(isInRange(parseIpAddress('2001:db9::1')!, range('2001:db8::/32'))).toBe(false);
    expect(isInRange(parseIpAddress('192.0.2.7')!, range('192.0.2.7'))).toBe(true);
    expect(isInRange(parseIpAddress('192.0.2.8')!, range('192.0.2.7'))).toBe(false);
    expect(isInRange(parseIpAddress('::1')!, range('::/0'))).toBe(true);
    expect(isInRange(parseIpAddress('192.0.2.1')!, range('::/0'))).toBe(false);
    expect(isInRange(parseIpAddress('8.8.8.8')!, range('0.0.0.0/0'))).toBe(true);
  });

  it('treats an IPv4-mapped peer and its IPv4 block as the same network', () => {
    expect(isInRange(parseIpAddress('::ffff:10.1.2.3')!, range('10.0.0.0/8'))).toBe(true);
    expect(isInRange(parseIpAddress('10.1.2.3')!, range('::ffff:10.0.0.0/104'))).toBe(true);
  });

  it.each([
    ['10.0.0.0/33', /prefix length between 0 and 32/],
    ['2001:db8::/129', /prefix length between 0 and 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/08', /prefix length/],
    ['10.0.0.0/8/8', /more than one/],
    ['10.1.2.3/8', /did you mean 10\.0\.0\.0\/8/],
    ['2001:db8::1/32', /did you mean 2001:db8::\/32/],
    ['fe80::1%eth0', /not an IPv4 or IPv6 address/],
    ['proxy.internal', /not an IPv4 or IPv6 address/],
  ])('refuses %s with a message that says why', (text, message) => {
    const parsed = parseIpRange(text);
    expect('error' in parsed && parsed.error).toMatch(message);
  });
});

function headers(values: Record<string, string>) {
  return new Headers(values);
}

describe('resolveClientAddress', () => {
  const trusted = [range('10.0.0.0/8'), range('2001:db8:ffff::/48')];

  it('is the socket peer when no proxy is trusted, whatever the headers claim', () => {
    const claims = headers({ 'X-Forwarded-For': '192.0.2.1', Forwarded: 'for=192.0.2.2' });
    expect(resolveClientAddress('198.51.100.7', claims, [])).toBe('198.51.100.7');
    expect(resolveClientAddress('10.0.0.1', claims, [])).toBe('10.0.0.1');
  });

  it('ignores forwarding headers from a peer that is not a trusted proxy', () => {
    const claims = headers({ 'X-Forwarded-For': '192.0.2.1', Forwarded: 'for=192.0.2.1' });
    expect(resolveClientAddress('198.51.100.7', claims, trusted)).toBe('198.51.100.7');
    expect(resolveClientAddress('2001:db8:1::7', claims, trusted)).toBe('2001:db8:1::7');
  });

  it('takes the X-Forwarded-For entry a trusted proxy appended', () => {
    expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': '192.0.2.1' }), trusted)).toBe('192.0.2.1');
    expect(resolveClientAddress('2001:db8:ffff::2', headers({ 'X-Forwarded-For': '2001:db8:1::7' }), trusted)).toBe('2001:db8:1::7');
    expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': ' 2001:DB8:1:0::7 ' }), trusted)).toBe('2001:db8:1::7');
  });

  it('walks several trusted hops from the right and stops at the first untrusted one', () => {
    const chain = headers({ 'X-Forwarded-For': '203.0.113.9, 192.0.2.1, 10.3.3.3, 2001:db8:ffff::9' });
    expect(resolveClientAddress('10.0.0.1', chain, trusted)).toBe('192.0.2.1');
  });

  it('never believes left-most entries that the client wrote itself', () => {
    const spoofed = headers({ 'X-Forwarded-For': '10.9.9.9, 1.1.1.1, 192.0.2.1' });
    expect(resolveClientAddress('10.0.0.1', spoofed, trusted)).toBe('192.0.2.1');
  });

  it('reads several X-Forwarded-For header lines as one list, in order', () => {
    const lines = new Headers();
    lines.append('X-Forwarded-For', '203.0.113.9');
    lines.append('X-Forwarded-For', '192.0.2.1, 10.3.3.3');
    expect(resolveClientAddress('10.0.0.1', lines, trusted)).toBe('192.0.2.1');
  });

  it('is the left-most entry when every hop is a trusted proxy', () => {
    expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': '10.2.2.2, 10.3.3.3' }), trusted)).toBe('10.2.2.2');
  });

  it('is the peer when a trusted proxy sends no forwarding header, or an empty one', () => {
    expect(resolveClientAddress('10.0.0.1', headers({}), trusted)).toBe('10.0.0.1');
    expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': '' }), trusted)).toBe('10.0.0.1');
  });

  it.each(['unknown', 'garbage', '', '192.0.2.300', '1.2.3.4.5', '::ffff:zz', '"192.0.2.1"', '[192.0.2.1]', 'fe80::1%eth0'])(
    'stops at the garbage entry %j and answers the trusted hop that reported it',
    (garbage) => {
      const chain = headers({ 'X-Forwarded-For': `192.0.2.1, ${garbage}, 10.3.3.3` });
      expect(resolveClientAddress('10.0.0.1', chain, trusted)).toBe('10.3.3.3');
      expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': garbage }), trusted)).toBe('10.0.0.1');
    },
  );

  it('accepts ports some load balancers append', () => {
    expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': '192.0.2.1:4711' }), trusted)).toBe('192.0.2.1');
    expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': '[2001:db8:1::7]:4711' }), trusted)).toBe('2001:db8:1::7');
    expect(resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': '[2001:db8:1::7]' }), trusted)).toBe('2001:db8:1::7');
  });

  it('normalises IPv4-mapped IPv6 peers and entries to IPv4', () => {
    expect(resolveClientAddress('::ffff:10.0.0.1', headers({ 'X-Forwarded-For': '::ffff:192.0.2.1' }), trusted)).toBe('192.0.2.1');
    expect(resolveClientAddress('::ffff:198.51.100.7', headers({ 'X-Forwarded-For': '192.0.2.1' }), trusted)).toBe('198.51.100.7');
  });

  describe('RFC 7239 Forwarded', () => {
    const client = (forwarded: string) => resolveClientAddress('10.0.0.1', headers({ Forwarded: forwarded }), trusted);

    it.each([
      ['for=192.0.2.60;proto=http;by=203.0.113.43', '192.0.2.60'],
      ['For="[2001:db8:cafe::17]:4711"', '2001:db8:cafe::17'],
      ['for="[2001:db8:cafe::17]"', '2001:db8:cafe::17'],
      ['for="192.0.2.60:4711"', '192.0.2.60'],
      ['for="192.0.2.60:_port"', '192.0.2.60'],
      ['proto=https; for=192.0.2.60', '192.0.2.60'],
      ['for=192.0.2.43, for=198.51.100.17', '198.51.100.17'],
      ['for=192.0.2.43, for=10.3.3.3;by=10.0.0.1', '192.0.2.43'],
      ['for=192.0.2.43, for="[2001:db8:ffff::3]"', '192.0.2.43'],
      ['for=192.0.2.43;by="a,b", for=10.3.3.3', '192.0.2.43'],
    ])('reads %s as %s', (forwarded, expected) => {
      expect(client(forwarded)).toBe(expected);
    });

    it.each([
      ['for=unknown', '10.0.0.1'],
      ['for=_hidden', '10.0.0.1'],
      ['for=192.0.2.43, for=_hidden, for=10.3.3.3', '10.3.3.3'],
      ['for=192.0.2.43, for=unknown', '10.0.0.1'],
      ['for=2001:db8::1', '10.0.0.1'],
      ['for="[2001:db8::1', '10.0.0.1'],
      ['proto=https', '10.0.0.1'],
      ['garbage', '10.0.0.1'],
      ['for="[192.0.2.1]"', '10.0.0.1'],
    ])('stops at a hop it cannot name in %s and answers %s', (forwarded, expected) => {
      expect(client(forwarded)).toBe(expected);
    });

    it('is ignored from an untrusted peer', () => {
      expect(resolveClientAddress('198.51.100.7', headers({ Forwarded: 'for=192.0.2.60' }), trusted)).toBe('198.51.100.7');
    });
  });

  describe('when a request carries both headers', () => {
    const both = (xff: string, forwarded: string) => resolveClientAddress('10.0.0.1', headers({ 'X-Forwarded-For': xff, Forwarded: forwarded }), trusted);

    it('takes X-Forwarded-For, which proxies append to, and ignores the Forwarded a client may have passed through', () => {
      expect(both('192.0.2.1', 'for=192.0.2.1')).toBe('192.0.2.1');
      expect(both('192.0.2.1', 'for=203.0.113.5')).toBe('192.0.2.1');
      expect(both('203.0.113.9, 192.0.2.1', 'for=10.3.3.3')).toBe('192.0.2.1');
    });

    it('never answers the shared proxy because Forwarded names no one', () => {
      for (const forwarded of ['for=unknown', 'for=_hidden', 'garbage', 'for=192.0.2.1, for=unknown']) {
        expect(both('192.0.2.1', forwarded)).toBe('192.0.2.1');
      }
    });
  });

  it('passes an unparsable peer through as written and knows nothing without one', () => {
    expect(resolveClientAddress('some-socket', headers({ 'X-Forwarded-For': '192.0.2.1' }), trusted)).toBe('some-socket');
    expect(resolveClientAddress(undefined, headers({ 'X-Forwarded-For': '192.0.2.1' }), trusted)).toBeUndefined();
  });
});

describe('rateLimitKeysOf', () => {
  it('counts IPv4 clients by address alone', () => {
    expect(rateLimitKeysOf('192.0.2.1')).toEqual({ address: '192.0.2.1' });
    expect(rateLimitKeysOf('::ffff:192.0.2.1')).toEqual({ address: '192.0.2.1' });
    expect(rateLimitKeysOf(undefined)).toEqual({ address: 'unknown' });
    expect(rateLimitKeysOf('some-socket')).toEqual({ address: 'some-socket' });
  });

  it('counts IPv6 clients by their /64 and, above it, by their /48', () => {
    expect(rateLimitKeysOf('2001:db8:1:2:aaaa::1')).toEqual({ address: '2001:db8:1:2::/64', block: '2001:db8:1::/48' });
    expect(rateLimitKeysOf('2001:db8:1:2:ffff:ffff:ffff:ffff')).toEqual({ address: '2001:db8:1:2::/64', block: '2001:db8:1::/48' });
    expect(rateLimitKeysOf('2001:db8:1:ffff::1')).toEqual({ address: '2001:db8:1:ffff::/64', block: '2001:db8:1::/48' });
    expect(rateLimitKeysOf('2001:db8:2:2::1')).toEqual({ address: '2001:db8:2:2::/64', block: '2001:db8:2::/48' });
  });
});
