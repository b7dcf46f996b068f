// DNS RCODE names, the full IANA registry (dns-parameters-6). dns-packet names only 0..10 and calls the rest
// RCODE_n; extended codes (above 15) exist only with an OPT record's upper bits (RFC 6891).
const NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  11: 'DSOTYPENI',
  16: 'BADVERS',
  17: 'BADKEY',
  18: 'BADTIME',
  19: 'BADMODE',
  20: 'BADNAME',
  21: 'BADALG',
  22: 'BADTRUNC',
  23: 'BADCOOKIE',
}

/** The registry's name, or `RCODE<n>` for an unassigned value. */
export function rcodeName(rcode: number): string {
  return NAMES[rcode] ?? `RCODE${rcode}`
}
