/**
 * Who is calling: the client address behind trusted reverse proxies, and the IP parsing and CIDR
 * matching it needs. Web-standard code (no node:net), so the Workers build uses the same rules.
 */

/** An address as bytes: 4 for IPv4, 16 for IPv6. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is parsed as IPv4. */
export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

/** A CIDR block; a single address is a block of its full length. */
export interface IpRange {
  network: IpAddress;
  prefixLength: number;
}

const IPV4_OCTET = /^(0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;
/** `::ffff:0:0/96` (RFC 4291 §2.5.5.2): how a dual-stack socket reports an IPv4 peer. */
const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIpv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [index, part] of parts.entries()) {
    // Leading zeros are refused: some parsers read `010` as octal, so it names two different addresses.
    if (!IPV4_OCTET.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[index] = value;
  }
  return bytes;
}

function parseIpv6Bytes(text: string): Uint8Array | undefined {
  // Zone ids (`fe80::1%eth0`) name an interface of one machine, never a client on the network.
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let hexPart = text;
  let ipv4Tail: Uint8Array | undefined;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    ipv4Tail = parseIpv4Bytes(text.slice(lastColon + 1));
    if (!ipv4Tail) return undefined;
    // The dotted tail stands for the last two groups (RFC 4291 §2.2, form 3).
    hexPart = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = hexPart.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (![...head, ...tail].every((group) => IPV6_GROUP.test(group))) return undefined;
  const written = head.length + tail.length;
  if (halves.length === 1 ? written !== 8 : written > 7) return undefined;
  const groups = [...head, ...Array<string>(8 - written).fill('0'), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  if (ipv4Tail) bytes.set(ipv4Tail, 12);
  return bytes;
}

/** Parses a bare address (no brackets, port or zone id). IPv4-mapped IPv6 comes back as IPv4. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const v4 = parseIpv4Bytes(text);
  if (v4) return { version: 4, bytes: v4 };
  const v6 = parseIpv6Bytes(text);
  if (!v6) return undefined;
  if (IPV4_MAPPED_PREFIX.every((byte, index) => v6[index] === byte)) return { version: 4, bytes: v6.slice(12) };
  return { version: 6, bytes: v6 };
}

/** The canonical text form: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIpAddress(address: IpAddress): string {
  const { bytes } = address;
  if (address.version === 4) return Array.from(bytes).join('.');
  const groups = Array.from({ length: 8 }, (_, index) => (bytes[index * 2]! << 8) | bytes[index * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  // RFC 5952 §4.2.2: a single zero group is written `0`, not `::`.
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function maskedBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  return bytes.map((byte, index) => {
    const bitsKept = Math.min(8, Math.max(0, prefixLength - index * 8));
    return byte & ((0xff << (8 - bitsKept)) & 0xff);
  });
}

/**
 * Parses `address` or `address/prefix` (CIDR). Host bits set below the prefix are refused rather
 * than silently dropped: `10.1.2.3/8` is more likely a typo than a wish to trust all of 10/8.
 */
export function parseIpRange(text: string): { range: IpRange } | { error: string } {
  const [addressText = '', prefixText, ...extra] = text.split('/');
  if (extra.length > 0) return { error: `"${text}" has more than one "/"` };
  const address = parseIpAddress(addressText);
  if (!address) return { error: `"${addressText}" is not an IPv4 or IPv6 address (no brackets, ports or zone ids)` };
  const writtenAsIpv6 = addressText.includes(':');
  const maxLength = writtenAsIpv6 ? 128 : 32;
  let prefixLength = maxLength;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > maxLength) {
      return { error: `"${text}" needs a prefix length between 0 and ${maxLength}` };
    }
    prefixLength = Number(prefixText);
  }
  if (writtenAsIpv6 && address.version === 4) {
    // `::ffff:10.0.0.0/104` is 10.0.0.0/8 as a dual-stack socket writes it.
    if (prefixLength < 96) return { error: `"${text}" mixes IPv4-mapped and other IPv6 addresses; write the IPv4 block instead` };
    prefixLength -= 96;
  }
  const network = maskedBytes(address.bytes, prefixLength);
  if (network.some((byte, index) => byte !== address.bytes[index])) {
    const suggestion = `${formatIpAddress({ version: address.version, bytes: network })}/${prefixLength}`;
    return { error: `"${text}" has bits set after its prefix; did you mean ${suggestion}?` };
  }
  return { range: { network: { version: address.version, bytes: network }, prefixLength } };
}

export function isInRange(address: IpAddress, range: IpRange): boolean {
  if (address.version !== range.network.version) return false;
  const masked = maskedBytes(address.bytes, range.prefixLength);
  return masked.every((byte, index) => byte === range.network.bytes[index]);
}

/**
 * One X-Forwarded-For entry. Mostly bare addresses; some load balancers append a port
 * (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
 */
function parseForwardedForEntry(entry: string): IpAddress | undefined {
  const text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) {
    const address = parseIpAddress(bracketed[1]!);
    return address && bracketed[1]!.includes(':') ? address : undefined;
  }
  const withPort = /^([\d.]+):\d{1,5}$/.exec(text);
  return parseIpAddress(withPort ? withPort[1]! : text);
}

/**
 * Splits on `separator` outside quoted strings (RFC 7230 §3.2.6), so a `,` or `;` inside quotes
 * never breaks an element apart.
 */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted && char === '\\') {
      current += char + (text[index + 1] ?? '');
      index++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * The `for=` node of one RFC 7239 `Forwarded` element: `192.0.2.60`, `"192.0.2.60:4711"`,
 * `"[2001:db8:cafe::17]:4711"`. `unknown`, obfuscated identifiers (`_hidden`, RFC 7239 §6.3) and
 * malformed elements give undefined: a hop we cannot name.
 */
function parseForwardedElement(element: string): IpAddress | undefined {
  for (const pair of splitOutsideQuotes(element, ';')) {
    const equals = pair.indexOf('=');
    if (equals < 0) return undefined;
    if (pair.slice(0, equals).trim().toLowerCase() !== 'for') continue;
    let value = pair.slice(equals + 1).trim();
    if (value.startsWith('"')) {
      if (value.length < 2 || !value.endsWith('"')) return undefined;
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    } else if (value.includes(':') || value.includes('[')) {
      // An IPv6 node or a port must be quoted (RFC 7239 §6): unquoted, it is not this syntax.
      return undefined;
    }
    const node = /^\[([^\]]+)\](?::(?:\d{1,5}|_[\w.-]+))?$/.exec(value);
    if (node) return node[1]!.includes(':') ? parseIpAddress(node[1]!) : undefined;
    const v4 = /^([\d.]+)(?::(?:\d{1,5}|_[\w.-]+))?$/.exec(value);
    return v4 ? parseIpAddress(v4[1]!) : undefined;
  }
  return undefined;
}

/** Hops named by one forwarding header, client side first; undefined marks an entry that names no address. */
type Hops = (IpAddress | undefined)[];

function forwardedForHops(header: string): Hops {
  return header.split(',').map(parseForwardedForEntry);
}

function forwardedHops(header: string): Hops {
  return splitOutsideQuotes(header, ',').map(parseForwardedElement);
}

/**
 * Walks `hops` from the proxy nearest us outwards, past every trusted proxy. The first hop that is
 * not trusted is the client. A hop that names no address (`unknown`, garbage) ends the walk at the
 * trusted proxy that reported it: the safe answer, since everything to its left may have been
 * written by the client itself.
 */
function walkHops(peer: IpAddress, hops: Hops, isTrusted: (address: IpAddress) => boolean): IpAddress {
  let current = peer;
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = hops[index];
    if (!hop) return current;
    current = hop;
    if (!isTrusted(hop)) return hop;
  }
  return current;
}

export interface ForwardingHeaders {
  get(name: string): string | null;
}

/**
 * The client's address: the socket peer, unless the peer is a trusted proxy — then the right-most
 * `X-Forwarded-For` (or RFC 7239 `Forwarded`) entry that is not a trusted proxy. Headers from an
 * untrusted peer are ignored, since any client can write them.
 *
 * When a request carries both, `X-Forwarded-For` is read and `Forwarded` ignored: X-Forwarded-For
 * is what proxies append to (nginx's `$proxy_add_x_forwarded_for`), while `Forwarded` is passed
 * through as the client wrote it. Answering the proxy itself on a disagreement would let any client
 * join the proxy's shared bucket at will by sending `Forwarded: for=unknown`.
 */
export function resolveClientAddress(peer: string | undefined, headers: ForwardingHeaders, trustedProxies: readonly IpRange[]): string | undefined {
  if (peer === undefined) return undefined;
  const peerAddress = parseIpAddress(peer);
  if (!peerAddress) return peer;
  const isTrusted = (address: IpAddress) => trustedProxies.some((range) => isInRange(address, range));
  if (!isTrusted(peerAddress)) return formatIpAddress(peerAddress);

  const forwardedFor = headers.get('X-Forwarded-For');
  const forwarded = headers.get('Forwarded');
  // A blank header names no hop: as good as none, so a proxy that writes only Forwarded still works.
  const hops =
    forwardedFor !== null && forwardedFor.trim() !== ''
      ? forwardedForHops(forwardedFor)
      : forwarded !== null
        ? forwardedHops(forwarded)
        : [];
  return formatIpAddress(walkHops(peerAddress, hops, isTrusted));
}

/**
 * A prefix above the /64 that one network holds: RFC 6177 has registries give a whole site (a
 * company, a campus, a hosting customer) a /48, so one holder of a /48 has 65,536 /64s to draw from.
 */
const IPV6_BLOCK_PREFIX_LENGTH = 48;

/**
 * The keys a client's requests are counted under: the address itself for IPv4; for IPv6 the /64 —
 * one subscriber line or device is handed a whole /64 (RFC 6177), so counting single IPv6
 * addresses would give one client 2^64 budgets — and, as `block`, the /48 around it, so a holder of
 * many /64s is still one budget at the top. Anything unparsable is counted as written.
 */
export function rateLimitKeysOf(address: string | undefined): { address: string; block?: string } {
  if (address === undefined) return { address: 'unknown' };
  const parsed = parseIpAddress(address);
  if (!parsed) return { address };
  if (parsed.version === 4) return { address: formatIpAddress(parsed) };
  const prefixOf = (length: number) => `${formatIpAddress({ version: 6, bytes: maskedBytes(parsed.bytes, length) })}/${length}`;
  return { address: prefixOf(64), block: prefixOf(IPV6_BLOCK_PREFIX_LENGTH) };
}
