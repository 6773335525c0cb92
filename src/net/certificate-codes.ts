/**
 * Node's verification codes for a certificate chain that does not end at a CA
 * the client trusts: the one set every start-up check (Kafka, Postgres, Redis,
 * the registry) reads to say "set the CA file" rather than "unreachable".
 */
export const untrustedCertificateCodes: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
