// Histogram bucket boundaries, in seconds. Chosen per metric so the interesting range has resolution.

/** TCP smoothed RTT: loopback and same-host peers sit at tens of microseconds, WAN peers at hundreds of ms. */
export const RTT_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]

/**
 * DNS response time: the semconv request-duration buckets (as used for `dns.lookup.duration`), extended below
 * 5 ms because a node-local or cached resolver answers in well under a millisecond.
 */
export const DNS_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]

/** `http.*.request.duration`: exactly the semantic-conventions advice. */
export const HTTP_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]
