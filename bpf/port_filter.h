/* Shared between bpf/port_filter.bpf.c and user space (src/capture/port-filter.ts). */
#ifndef NETLENS_PORT_FILTER_H
#define NETLENS_PORT_FILTER_H

#define PORT_FILTER_MAX_PORTS 16
/* Fragmented datagrams whose first fragment was kept, remembered until their other fragments passed. */
#define PORT_FILTER_MAX_FRAGMENTED 4096

/* Index into the per-CPU array `port_filter_counters` (u64 each). Every frame the filter sees is counted as `seen`
 * and then exactly once more: `matched` or `fragment_kept` (kept) or one drop reason. */
enum port_filter_counter {
	PORT_FILTER_SEEN = 0,
	/* Kept: UDP/TCP on one of the ports (a first fragment included). */
	PORT_FILTER_MATCHED = 1,
	/* lo hands each frame to packet sockets twice; the outgoing copy is dropped. */
	PORT_FILTER_LOOPBACK_DUPLICATE = 2,
	/* Neither IPv4 nor IPv6 (ARP, LLDP, more than 2 VLAN tags, ...). */
	PORT_FILTER_NOT_IP = 3,
	/* Non-first IP fragment of a datagram whose first fragment was not kept: another port's, or it came first. */
	PORT_FILTER_FRAGMENT = 4,
	/* Shorter than its headers claim, or too many IPv6 extension headers to walk. */
	PORT_FILTER_MALFORMED = 5,
	/* A well-formed IP packet that is not UDP/TCP on one of the ports (the filter doing its job). */
	PORT_FILTER_NOT_MATCHED = 6,
	/* Kept: non-first IP fragment of a datagram whose first fragment was kept (user space reassembles them). */
	PORT_FILTER_FRAGMENT_KEPT = 7,
	/* A TCP segment on one of the ports with no payload and none of SYN, FIN, RST (a bare ACK): nothing to parse. */
	PORT_FILTER_TCP_NO_PAYLOAD = 8,
	/* Kept without its payload: a TCP segment inside a body user space skips (port_filter_skips). */
	PORT_FILTER_PAYLOAD_SKIPPED = 9,
	/* Read by the HTTP exchange tracking and left in the kernel (http_exchange.bpf.h; not a loss). */
	PORT_FILTER_EXCHANGE_READ = 10,
	/* Kept: the first segment of a connection the exchange tracking handed over to user space. */
	PORT_FILTER_HANDED_OVER = 11,
	PORT_FILTER_COUNTER_COUNT = 12,
};

/* Key of the LRU hash `port_filter_fragmented`: one fragmented datagram (RFC 791 / RFC 8200 identity). Addresses
 * and the id as on the wire; an IPv4 address fills the first 4 bytes, the rest stays zero. */
struct port_filter_fragment_key {
	__u8 family; /* 4 or 6 */
	__u8 protocol;
	__u8 pad[2];
	__u32 id; /* IPv4: the 16-bit identification in the first 2 bytes */
	__u8 source[16];
	__u8 destination[16];
};

/* Payload user space does not need, by connection direction (key of the LRU hash `port_filter_skips`): the
 * header fields as they are on the wire, addresses of an IPv4 packet in the first 4 bytes (the rest zero). */
struct port_filter_skip_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u16 source_port; /* network byte order */
	__u16 destination_port;
	__u8 source[16];
	__u8 destination[16];
};

/* Segments whose whole payload lies in [from, until) (TCP sequence numbers, host order) are kept without it. */
struct port_filter_skip {
	__u32 from;
	__u32 until;
};

#define PORT_FILTER_MAX_SKIPS 4096

#endif
