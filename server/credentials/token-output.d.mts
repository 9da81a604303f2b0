/** F(secretKey, input) of RFC 9497 (VOPRF, ristretto255-SHA512): 64 bytes. See token-output.mjs. */
export function tokenOutput(secretKey: Uint8Array, input: Uint8Array): Uint8Array;
