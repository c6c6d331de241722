
/**
 * identify(externalUserId, signature): the shop's backend vouches that this browser belongs to
 * that customer, so nobody can claim another shopper's pushes by typing their id. The signature
 * is hex(HMAC-SHA256(key = hex(SHA-256(secret key)), message = externalUserId)) — keyed with the
 * key's hash because only the hash is stored; any live secret key of the site may sign.
 */
export async function identitySignature(secretKeyHashHex: string, externalUserId: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secretKeyHashHex), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(externalUserId)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export async function verifyIdentitySignature(secretKeyHashes: string[], externalUserId: string, signature: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(signature)) return false;
  for (const hash of secretKeyHashes) {
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(hash), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    const given = Uint8Array.from(signature.match(/../g)!, (pair) => parseInt(pair, 16));
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify('HMAC', key, given, new TextEncoder().encode(externalUserId))) return true;
  }
  return false;
}

