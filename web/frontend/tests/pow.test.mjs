// The browser's proof of work (src/pow.js) against Node's own SHA-256: the same first nonce the
// server's reports.Solve finds, and a correct count of leading zero bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { leadingZeroBits, solve } from '../src/pow.js';

const zeroBits = (s) => leadingZeroBits(createHash('sha256').update(s).digest());

test('leadingZeroBits', () => {
  assert.equal(leadingZeroBits(new Uint8Array([0x80, 0])), 0);
  assert.equal(leadingZeroBits(new Uint8Array([0x01, 0xff])), 7);
  assert.equal(leadingZeroBits(new Uint8Array([0, 0x20])), 10);
  assert.equal(leadingZeroBits(new Uint8Array([0, 0, 0])), 24);
});

test('solve finds the first nonce with enough zero bits', async () => {
  for (const [challenge, bits] of [['AAAAAGdV3xQ.abc', 8], ['another-challenge', 12]]) {
    let seen = 0;
    const nonce = await solve(challenge, bits, (n) => { seen = n; });
    assert.match(nonce, /^\d+$/);
    assert.ok(zeroBits(`${challenge}:${nonce}`) >= bits);
    for (let i = 0; i < Number(nonce); i++) assert.ok(zeroBits(`${challenge}:${i}`) < bits, `nonce ${i} already solves it`);
    if (Number(nonce) >= 512) assert.ok(seen >= 512, 'progress is reported');
  }
});
