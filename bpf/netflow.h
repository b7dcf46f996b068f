/* Structs the netflow BPF programs share with user space (src/receivers/netflow/layout.ts mirrors them). */
#ifndef NETFLOW_H
#define NETFLOW_H

/* One entry per socket and peer: TCP has one peer per socket, an unconnected UDP socket one per address it talks to.
 * The socket's identity (never reused, unlike the struct sock address) ties entries to their owner: the socket
 * cookie, or with the classic tracepoint hooks an id assigned to TCP sockets (netflow_classic.bpf.c). */
struct netflow_key {
	__u64 cookie;
	__u8 remote_addr[16]; /* IPv4 in the first 4 bytes */
	__u16 remote_port;    /* host order */
	__u16 _pad[3];
};

enum flow_direction {
	FLOW_DIRECTION_UNKNOWN = 0,
	FLOW_DIRECTION_INCOMING = 1, /* the local socket was accepted */
	FLOW_DIRECTION_OUTGOING = 2, /* the local socket connected */
};

enum flow_state {
	FLOW_ESTABLISHED = 1, /* the TCP handshake completed while netlens watched */
	FLOW_CLOSED = 2,      /* the TCP socket reached CLOSE: report once, then user space deletes the entry */
};

/* Counters are cumulative for the entry's life; user space reports deltas. */
struct netflow_stats {
	__u64 bytes_sent;
	__u64 bytes_received;
	__u32 total_retrans; /* tcp_sock.total_retrans: retransmitted segments, as `ss -ti` and nstat count them */
	__u32 srtt_us;
	__u32 rttvar_us;
	__u16 local_port; /* host order */
	__u8 family;      /* AF_INET / AF_INET6 */
	__u8 protocol;    /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 local_addr[16];
	__u8 direction; /* enum flow_direction */
	__u8 state;     /* enum flow_state bits, written only by the state and close programs */
	__u8 owner_recorded; /* its own byte: set from process context while softirqs may update `state` */
	__u8 _pad[5];
};

/* Who owns a socket: set in process context (connect, send, recv), joined with flows by identity in user space. */
struct netflow_owner {
	__u32 pid;
	__u32 netns;
	__u8 udp_bound; /* bind() chose the port: a UDP server, so its peers initiated */
	__u8 _pad[7];
	char comm[16];
};

enum netflow_counter {
	NETFLOW_FLOWS_FULL = 0,       /* a new flow found the flows map full: its traffic is not counted */
	NETFLOW_OWNERS_FULL = 1,      /* a socket's owner could not be recorded: its flows report pid 0 */
	NETFLOW_UDP_UNPARSED = 2,     /* a UDP packet whose headers could not be read */
	NETFLOW_FLOWS_CREATED = 3,    /* not a drop: entries inserted, so user space knows how full the map is */
	NETFLOW_INSERT_FAILED = 4,    /* a new flow could not be inserted for another reason than a full map */
	NETFLOW_SOCKET_ID_FAILED = 5, /* classic hooks: a TCP socket got no id, so this event of it is not counted */
	NETFLOW_COUNTERS = 6,
};

#endif
