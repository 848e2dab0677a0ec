// Random values in one alphabet, without bias: each character is drawn uniformly from its alphabet.

export type RandomAlphabet = 'base64url' | 'hex' | 'alphanumeric';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** The largest multiple of 62 a byte can hold (4 * 62): bytes at or above it are drawn again, never folded by `%`. */
const ALPHANUMERIC_LIMIT = 248;

/** The default length in characters: 32 random bytes (256 bits) in that alphabet. */
export const defaultLength = (alphabet: RandomAlphabet): number => (alphabet === 'hex' ? 64 : 43);

/** Bits of randomness a value of `length` characters carries. */
export const entropyBits = (alphabet: RandomAlphabet, length: number): number =>
  Math.floor(length * (alphabet === 'hex' ? 4 : alphabet === 'base64url' ? 6 : Math.log2(62)));

/**
 * A value of `length` characters. base64url and hex encode whole bytes and cut the text (every character still
 * stands for 6 or 4 uniform bits); alphanumeric uses rejection sampling, since 256 is not a multiple of 62.
 */
export function randomText(randomBytes: (size: number) => Buffer, alphabet: RandomAlphabet, length: number): string {
  if (alphabet === 'base64url')
    return randomBytes(Math.ceil((length * 3) / 4))
      .toString('base64url')
      .slice(0, length);
  if (alphabet === 'hex')
    return randomBytes(Math.ceil(length / 2))
      .toString('hex')
      .slice(0, length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length - out.length + 8)) {
      if (byte < ALPHANUMERIC_LIMIT && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}
