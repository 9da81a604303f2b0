/** The order of the ristretto255 group. */
export const GROUP_ORDER: bigint;
/**
 * RFC 9497 BlindEvaluate (VOPRF, ristretto255-SHA512): the evaluated element (32 bytes) and its proof
 * (64 bytes), byte for byte noble's for the same 48 random bytes. See blind-evaluate.mjs.
 */
export function blindEvaluate(secretKey: Uint8Array, publicKey: Uint8Array, blinded: Uint8Array, random: Uint8Array): { evaluated: Uint8Array; proof: Uint8Array };
