/* Shared between bpf/http_exchange.bpf.h (the capture filter's HTTP exchange tracking) and user space
 * (src/capture/http-exchanges.ts). */
#ifndef NETLENS_HTTP_EXCHANGE_H
#define NETLENS_HTTP_EXCHANGE_H

/* Request lines up to this long are kept in the kernel; a longer one hands its connection to user space. */
#define HTTP_EXCHANGE_MAX_LINE 256

/* A TCP connection, the same key for both directions: endpoint `a` is the lower of the two (address, then port),
 * header fields as on the wire, an IPv4 address in the first 4 bytes (the rest zero). */
struct http_exchange_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u16 port_a; /* network byte order */
	__u16 port_b;
	__u8 address_a[16];
	__u8 address_b[16];
};

/* A request whose response has not come yet: its line, when it was captured, and whether it was a HEAD (whose
 * response has no body whatever its Content-Length says). */
struct http_exchange_request {
	__u64 start_ns; /* CLOCK_MONOTONIC */
	__u16 line_length; /* 0: no request pending */
	__u8 head;
	__u8 pad[5];
	__u8 line[HTTP_EXCHANGE_MAX_LINE];
};

/* One exchange the filter read whole, sent on the ring `http_exchange_events` instead of its frames. */
struct http_exchange_event {
	struct http_exchange_request request;
	__u64 response_ns; /* the response's first byte, CLOCK_MONOTONIC */
	__u16 status;
	__u8 family; /* 4 or 6 */
	__u8 side; /* HTTP_EXCHANGE_SIDE_* */
	__u16 client_port; /* network byte order */
	__u16 server_port;
	__u8 client[16];
	__u8 server[16];
};

#define HTTP_EXCHANGE_SIDE_CLIENT 0
#define HTTP_EXCHANGE_SIDE_SERVER 1

/* What user space needs to go on with a connection the filter stops reading (key: http_exchange_key): who the
 * client is, where each direction's next message starts, and the request still waiting for its response. */
struct http_exchange_handover {
	struct http_exchange_request pending;
	__u32 client_next; /* sequence number of the client's next message */
	__u32 server_next; /* sequence number of the server's next message */
	__u8 client_is_a;
	__u8 side;
	__u8 pad[6];
};

/* A connection the filter follows (value of the hash `http_exchanges`). */
struct http_exchange_state {
	__u32 busy; /* 1 while a CPU changes the entry (an atomic try-lock: socket filters cannot take a bpf_spin_lock) */
	__u32 client_next; /* sequence number of the client's next byte */
	__u32 server_next; /* sequence number of the server's next byte */
	__u32 body_remaining; /* bytes of the current response body still to come from the server */
	__u64 last_seen_ns; /* CLOCK_MONOTONIC */
	__u8 flags; /* HTTP_EXCHANGE_* below */
	__u8 client_is_a;
	__u8 side;
	__u8 pad[5];
	struct http_exchange_request pending;
};

/* Each direction's next sequence number is known once its SYN was seen. */
#define HTTP_EXCHANGE_SERVER_SYNCED 0x01
#define HTTP_EXCHANGE_FIN_CLIENT 0x02
#define HTTP_EXCHANGE_FIN_SERVER 0x04
/* Handed over: the entry is about to be deleted, what comes next goes to user space. */
#define HTTP_EXCHANGE_GONE 0x08

/* Index into the per-CPU array `http_exchange_counters` (u64 each): what the tracking did, beside the frame
 * counters of port_filter.h. */
enum http_exchange_counter {
	/* Exchanges sent on the ring. */
	HTTP_EXCHANGE_SENT = 0,
	/* Exchanges lost: the ring was full (user space not reading fast enough). */
	HTTP_EXCHANGE_RING_FULL = 1,
	/* Connections left to user space from their SYN because `http_exchanges` was full (not a loss). */
	HTTP_EXCHANGE_TABLE_FULL = 2,
	/* Handovers whose state could not be stored (`http_exchange_handovers` full): a pending request is lost. */
	HTTP_EXCHANGE_HANDOVER_LOST = 3,
	/* Requests still waiting for their response when their connection closed (FIN both ways, RST, a new SYN). */
	HTTP_EXCHANGE_UNANSWERED_AT_CLOSE = 4,
	/* Connections handed to user space (not a loss), by why: a request other than a bodiless GET/HEAD in one
	 * segment; a response whose headers do not fit the first segment or that is not framed by Content-Length; a
	 * segment out of order; a request sent before the previous one's response (pipelining); a response with no
	 * request waiting. */
	HTTP_EXCHANGE_HANDOVER_REQUEST = 5,
	HTTP_EXCHANGE_HANDOVER_RESPONSE = 6,
	HTTP_EXCHANGE_HANDOVER_SEQUENCE = 7,
	HTTP_EXCHANGE_HANDOVER_PIPELINED = 8,
	HTTP_EXCHANGE_HANDOVER_UNPAIRED = 9,
	/* Segments left out because another CPU held their connection's entry too long (see LOCK_TRIES). */
	HTTP_EXCHANGE_LOCK_BUSY = 10,
	HTTP_EXCHANGE_COUNTER_COUNT = 11,
};

#endif
