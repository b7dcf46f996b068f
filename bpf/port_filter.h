/* Shared between bpf/port_filter.bpf.c and user space (src/capture/filter-counters.ts). */
#ifndef NETLENS_PORT_FILTER_H
#define NETLENS_PORT_FILTER_H

#define PORT_FILTER_MAX_PORTS 16

/* Index into the per-CPU array `port_filter_counters` (u64 each). Every frame the filter sees is counted as `seen`
 * and then exactly once more: `matched` (kept) or one drop reason. */
enum port_filter_counter {
	PORT_FILTER_SEEN = 0,
	PORT_FILTER_MATCHED = 1,
	/* lo hands each frame to packet sockets twice; the outgoing copy is dropped. */
	PORT_FILTER_LOOPBACK_DUPLICATE = 2,
	/* Neither IPv4 nor IPv6 (ARP, LLDP, more than 2 VLAN tags, ...). */
	PORT_FILTER_NOT_IP = 3,
	/* Non-first IP fragment: no transport header to match ports on. */
	PORT_FILTER_FRAGMENT = 4,
	/* Shorter than its headers claim, or too many IPv6 extension headers to walk. */
	PORT_FILTER_MALFORMED = 5,
	/* A well-formed IP packet that is not UDP/TCP on one of the ports (the filter doing its job). */
	PORT_FILTER_NOT_MATCHED = 6,
	PORT_FILTER_COUNTER_COUNT = 7,
};

#endif
