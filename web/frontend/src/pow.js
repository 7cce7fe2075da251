// The proof of work asked of anonymous reporters (layers/reports/pow.go): find the first nonce
// 0, 1, 2, … such that SHA-256(challenge ":" nonce) starts with difficulty zero bits. No
// third-party service; about 2^difficulty hashes with the browser's crypto.subtle.

/** leadingZeroBits counts the zero bits that start a digest. */
export function leadingZeroBits(bytes) {
  let n = 0;
  for (const b of bytes) {
    if (b === 0) { n += 8; continue; }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

/**
 * solve finds a nonce so that SHA-256(challenge ":" nonce) starts with difficulty zero bits,
 * hashing in batches with crypto.subtle and reporting progress (hashes tried) between batches.
 */
export async function solve(challenge, difficulty, progress) {
  const enc = new TextEncoder();
  const batch = 512;
  for (let start = 0; ; start += batch) {
    const tries = [];
    for (let i = start; i < start + batch; i++) tries.push(crypto.subtle.digest('SHA-256', enc.encode(`${challenge}:${i}`)));
    const digests = await Promise.all(tries);
    for (let j = 0; j < digests.length; j++) {
      if (leadingZeroBits(new Uint8Array(digests[j])) >= difficulty) return String(start + j);
    }
    if (progress) progress(start + batch);
  }
}
