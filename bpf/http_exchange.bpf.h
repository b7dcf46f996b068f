// SPDX-License-Identifier: GPL-2.0
/* HTTP exchange tracking inside the capture filter (compiled into port_filter_exchanges.bpf.o, which the http
 * receiver loads with kernel_exchanges). At ~100k requests/s, copying every request and response frame to user space
 * and parsing it there costs far more than the application's own work per request; most exchanges are simple: a
 * bodiless GET or HEAD in one segment, answered by a response whose headers fit its first segment and whose body
 * Content-Length frames. Those the filter reads here and sends as one ring record per exchange; their frames stay
 * in the kernel.
 *
 * A connection is followed from its SYN (the only point where both directions' sequence numbers are known). Every
 * segment must come in order; anything the filter does not read (a request body, pipelining, chunked framing, a
 * header block beyond the first segment, a sequence hole) hands the connection to user space for good: its state
 * (who is the client, where each direction's next message starts, the request still waiting) goes into
 * `http_exchange_handovers`, written before the segment is passed, where the packet tracker finds it when it opens
 * the connection. Connections already open when the filter started, and those that find the table full, go to user
 * space from the start, as before. Idle entries (a peer that vanished without FIN or RST) are swept by user space.
 *
 * Both directions of a connection can be handled on two CPUs at once (pipelining, simultaneous close): state
 * changes happen under the entry's lock, an atomic flag (socket filters cannot use bpf_spin_lock); helpers are called
 * before or after it. The filter runs with bottom halves off, so the holder is never preempted: a few tries always
 * suffice in practice, and a segment that finds the entry still busy after LOCK_TRIES is counted and left out (the
 * hole it leaves hands the connection over with its next segment). */
#include "http_exchange.h"

/* Request bytes read, and response bytes searched for the end of the headers. A power of two: offsets are masked. */
#define LOCK_TRIES 256
#define SCAN_BYTES 1024
#define SCAN_MASK (SCAN_BYTES - 1)
#define SCAN_WORDS_PER_STEP 4
/* Enough steps for SCAN_BYTES of 8-byte words and 64 line ends. */
#define SCAN_STEPS (SCAN_BYTES / 8 + 64)
#define EIGHT(c) (0x0101010101010101ULL * (c))
/* Header names compared 8 bytes at a time (little-endian words), after OR 0x20 per byte (ASCII letters to lower
 * case; `-`, `:` and digits already have that bit). */
#define WORD_CONTENT_ 0x2d746e65746e6f63ULL /* "content-" */
#define WORD_LENGTH_COLON 0x003a6874676e656cULL /* "length:" and one byte not compared */
#define MASK_7_BYTES 0x00ffffffffffffffULL
#define WORD_TRANSFER 0x726566736e617274ULL /* "transfer" */
#define WORD_ENCODING 0x6e69646f636e652dULL /* "-encodin" */
#define WORD_GET 0x20544547U /* "GET " */
#define WORD_HEAD 0x44414548U /* "HEAD" */
#define WORD_HTTP 0x50545448U /* "HTTP" */
#define WORD_SLASH_1_DOT 0x2e312fU /* "/1." */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct http_exchange_key);
	__type(value, struct http_exchange_state);
} http_exchanges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct http_exchange_key);
	__type(value, struct http_exchange_handover);
} http_exchange_handovers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} http_exchange_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HTTP_EXCHANGE_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} http_exchange_counters SEC(".maps");

/* Per-CPU room for what does not fit the 512-byte stack: the segment's first bytes (16 spare bytes let a header
 * name be read as two words from any offset), and a state on its way into a map. */
struct exchange_scratch {
	__u8 bytes[SCAN_BYTES + 16];
	struct http_exchange_state state;
	struct http_exchange_handover handover;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exchange_scratch);
} http_exchange_scratch SEC(".maps");

struct lock_attempt {
	struct http_exchange_state *state;
	__u64 taken;
};

/* bpf_loop callback: one try (a bounded loop of tries inlined would be explored by the verifier once per try on
 * every path that reaches it). */
static long try_lock(__u64 index, struct lock_attempt *attempt)
{
	attempt->taken = __sync_val_compare_and_swap(&attempt->state->busy, 0, 1) == 0;
	return attempt->taken;
}

static __always_inline bool lock_state(struct http_exchange_state *state)
{
	struct lock_attempt attempt = { .state = state, .taken = 0 };

	if (__sync_val_compare_and_swap(&state->busy, 0, 1) == 0)
		return true;
	bpf_loop(LOCK_TRIES, try_lock, &attempt, 0);
	return attempt.taken;
}

static __always_inline void unlock_state(struct http_exchange_state *state)
{
	__sync_lock_test_and_set(&state->busy, 0);
}

static __always_inline void count_exchange(__u32 counter, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&http_exchange_counters, &counter);

	if (value)
		*value += n;
}

/* What the header scan found in scratch->bytes[0, length). */
struct message_scan {
	struct exchange_scratch *scratch;
	__u32 length;
	__u32 line_end; /* just past the first line's \r\n; 0: no line end */
	__u32 header_end; /* just past the blank line; 0: not found */
	__u32 content_length;
	__u32 content_length_at; /* where its value starts (just past the colon); 0: no Content-Length */
	__u32 cursor; /* where scan_step reads next */
	__u8 bad; /* Transfer-Encoding, a repeated or unreadable Content-Length, a bare \n ending the first line */
	__u8 pad[7];
};

static __always_inline __u8 byte_at(struct message_scan *s, __u32 at)
{
	return s->scratch->bytes[at & SCAN_MASK];
}

static __always_inline __u64 word_at(struct message_scan *s, __u32 at)
{
	return *(__u64 *)&s->scratch->bytes[at & SCAN_MASK];
}

/* Content-Length's value from `at` (just past its colon): one space, then 1 to 10 digits ending the line, as
 * servers write it. Anything else is left to user space (`bad`). Straight-line code over two words: a loop over
 * bytes at variable offsets inside the scan callback made the verifier explore every offset. */
static __always_inline void read_content_length(struct message_scan *s, __u32 at)
{
	__u64 low = word_at(s, at);
	__u64 high = word_at(s, at + 8);
	__u64 value = 0;
	int digits = 0;
	__u8 end = 0;

	#pragma unroll
	for (int i = 1; i < 12; i++) {
		__u8 c = i < 8 ? low >> (8 * i) : high >> (8 * (i - 8));

		if (end)
			continue;
		if (c >= '0' && c <= '9') {
			value = value * 10 + (c - '0');
			digits++;
		} else {
			end = c;
		}
	}
	if ((__u8)low != ' ' || end != '\r' || digits == 0 || value > 0xffffffffULL)
		s->bad = 1;
	s->content_length = value;
}

/* A \n at `at`: ends the first line, a header line, or (the next line being empty) the header block. Returns 1
 * when the scan is over. */
static __always_inline int line_ended(struct message_scan *s, __u32 at)
{
	__u32 next = at + 1;

	if (!s->line_end) {
		if (at == 0 || byte_at(s, at - 1) != '\r')
			s->bad = 1;
		s->line_end = next;
		return s->bad;
	}
	if (next + 2 <= s->length && byte_at(s, next) == '\r' && byte_at(s, next + 1) == '\n') {
		s->header_end = next + 2;
		return 1;
	}
	__u64 name = word_at(s, next) | EIGHT(0x20);
	__u64 more = word_at(s, next + 8) | EIGHT(0x20);

	if (name == WORD_CONTENT_ && (more & MASK_7_BYTES) == WORD_LENGTH_COLON) {
		if (s->content_length_at)
			s->bad = 1;
		s->content_length_at = next + 15;
	} else if (name == WORD_TRANSFER && more == WORD_ENCODING)
		s->bad = 1;
	return s->bad;
}

/* Flags the \n bytes of a word with 0x80 (the classic has-zero-byte test on the word XOR "\n\n\n\n\n\n\n\n"): the
 * lowest flagged byte is exact, the ones above it may not be. */
static __always_inline __u64 newlines(__u64 word)
{
	__u64 x = word ^ EIGHT('\n');

	return (x - EIGHT(0x01)) & ~x & EIGHT(0x80);
}

/* bpf_loop callback: moves the cursor past the next \n, or past up to SCAN_WORDS_PER_STEP words without one. No
 * loop inside (the one here is unrolled), which the verifier would explore once per cursor value; a bpf_loop step
 * costs ~10 ns, so a step reads several words. */
static long scan_step(__u64 index, struct message_scan *s)
{
	__u32 at = s->cursor;
	__u64 found = 0;

	if (at >= s->length)
		return 1;
	#pragma unroll
	for (int i = 0; i < SCAN_WORDS_PER_STEP; i++) {
		found = newlines(word_at(s, at));
		if (found)
			break;
		at += 8;
	}
	if (!found) {
		s->cursor = at;
		return 0;
	}
	/* found & -found is 0x80 << 8k; (1 << 8k) times 0x0001020304050607 has k in its top byte. */
	__u32 newline = at + (__u32)((((found & -found) >> 7) * 0x0001020304050607ULL) >> 56);

	s->cursor = newline + 1;
	if (newline >= s->length)
		return 1;
	return line_ended(s, newline);
}

/* Loads the payload's first bytes (at most SCAN_BYTES) and scans its header block. */
static __always_inline bool scan_message(struct __sk_buff *skb, __u32 payload, __u32 length, struct message_scan *s)
{
	__u32 zero = 0;

	__builtin_memset(s, 0, sizeof(*s));
	s->scratch = bpf_map_lookup_elem(&http_exchange_scratch, &zero);
	if (!s->scratch || length == 0)
		return false;
	if (length > SCAN_BYTES)
		length = SCAN_BYTES;
	if (bpf_skb_load_bytes(skb, payload, s->scratch->bytes, length))
		return false;
	s->length = length;
	bpf_loop(SCAN_STEPS, scan_step, s, 0);
	if (s->content_length_at)
		read_content_length(s, s->content_length_at);
	return !s->bad && s->line_end && s->header_end;
}

/* A bodiless GET or HEAD that is the whole segment (`length` bytes): sets its line's length (0: not such a request)
 * and whether it is a HEAD. */
static __always_inline __u32 simple_request(struct __sk_buff *skb, __u32 payload, __u32 length, struct message_scan *s,
					    __u8 *head)
{
	if (length > SCAN_BYTES || !scan_message(skb, payload, length, s) || s->header_end != length ||
	    s->content_length_at)
		return 0;
	__u32 first = *(__u32 *)s->scratch->bytes;
	__u32 line = s->line_end - 2;

	*head = first == WORD_HEAD && s->scratch->bytes[4] == ' ';
	if (first != WORD_GET && !*head)
		return 0;
	return line <= HTTP_EXCHANGE_MAX_LINE ? line : 0;
}

/* The status of a response whose status line and headers fit the segment's first SCAN_BYTES (0: not such a
 * response). Interim responses (1xx) are not read here: what follows them is the user space parser's business. */
static __always_inline __u16 simple_response(struct __sk_buff *skb, __u32 payload, __u32 length, struct message_scan *s)
{
	if (!scan_message(skb, payload, length, s) || s->line_end < 14)
		return 0;
	__u8 *b = s->scratch->bytes;

	if (*(__u32 *)b != WORD_HTTP || (*(__u32 *)&b[4] & 0xffffff) != WORD_SLASH_1_DOT || (b[7] != '0' && b[7] != '1') ||
	    b[8] != ' ' || b[9] < '2' || b[9] > '5' || b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9' ||
	    (b[12] != ' ' && b[12] != '\r'))
		return 0;
	return (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
}

/* The response body's length, from the status, the request's method and the headers; -1: framed otherwise
 * (read until close). */
static __always_inline __s64 body_length(__u16 status, __u8 head, struct message_scan *s)
{
	if (head || status == 204 || status == 304)
		return 0;
	return s->content_length_at ? (__s64)s->content_length : -1;
}

/* Fills `key` for the segment's connection; returns whether its source is endpoint a. */
static __always_inline int exchange_key(struct __sk_buff *skb, __u32 ip, __u8 family, __u16 ports[2],
					struct http_exchange_key *key)
{
	__u8 addresses[32]; /* source, destination */
	__u32 size = family == 4 ? 4 : 16;
	int source_first = 0;

	__builtin_memset(addresses, 0, sizeof(addresses));
	if (family == 4) {
		if (bpf_skb_load_bytes(skb, ip + 12, addresses, 4) || bpf_skb_load_bytes(skb, ip + 16, &addresses[16], 4))
			return -1;
	} else if (bpf_skb_load_bytes(skb, ip + 8, addresses, 32)) {
		return -1;
	}
	for (int i = 0; i < 16; i++) {
		if (i >= size)
			break;
		if (addresses[i] != addresses[16 + i]) {
			source_first = addresses[i] < addresses[16 + i];
			break;
		}
		if (i == size - 1)
			source_first = bpf_ntohs(ports[0]) <= bpf_ntohs(ports[1]);
	}
	__builtin_memset(key, 0, sizeof(*key));
	key->family = family;
	__builtin_memcpy(key->address_a, source_first ? addresses : &addresses[16], 16);
	__builtin_memcpy(key->address_b, source_first ? &addresses[16] : addresses, 16);
	key->port_a = source_first ? ports[0] : ports[1];
	key->port_b = source_first ? ports[1] : ports[0];
	return source_first;
}

/* A SYN without ACK: the client opens (or opens again) the connection. */
static __always_inline int exchange_opened(struct http_exchange_key *key, __u32 seq, __u8 client_is_a, __u32 pkt_type,
					   __u64 now)
{
	struct http_exchange_state *known = bpf_map_lookup_elem(&http_exchanges, key);
	struct exchange_scratch *scratch;
	__u32 zero = 0;

	if (known) {
		__u16 waiting;

		/* The same SYN again (retransmitted, or seen on a second interface). */
		if (known->client_next == seq + 1 && known->client_is_a == client_is_a)
			return PORT_FILTER_EXCHANGE_READ;
		if (!lock_state(known)) {
			count_exchange(HTTP_EXCHANGE_LOCK_BUSY, 1);
			return PORT_FILTER_EXCHANGE_READ;
		}
		waiting = known->pending.line_length;
		known->flags |= HTTP_EXCHANGE_GONE;
		unlock_state(known);
		if (waiting)
			count_exchange(HTTP_EXCHANGE_UNANSWERED_AT_CLOSE, 1);
	}
	scratch = bpf_map_lookup_elem(&http_exchange_scratch, &zero);
	if (!scratch)
		return -1;
	__builtin_memset(&scratch->state, 0, sizeof(scratch->state));
	scratch->state.client_next = seq + 1;
	scratch->state.client_is_a = client_is_a;
	scratch->state.side = pkt_type == PACKET_OUTGOING ? HTTP_EXCHANGE_SIDE_CLIENT : HTTP_EXCHANGE_SIDE_SERVER;
	scratch->state.last_seen_ns = now;
	if (bpf_map_update_elem(&http_exchanges, key, &scratch->state, BPF_ANY)) {
		count_exchange(HTTP_EXCHANGE_TABLE_FULL, 1);
		return -1;
	}
	return PORT_FILTER_EXCHANGE_READ;
}

/* Copies the state user space goes on from; the caller holds the lock. The server's next message starts after the
 * body still to come. */
static __always_inline void prepare_handover(struct http_exchange_state *state, struct http_exchange_handover *handover)
{
	handover->pending = state->pending;
	handover->client_next = state->client_next;
	handover->server_next = state->server_next + state->body_remaining;
	handover->client_is_a = state->client_is_a;
	handover->side = state->side;
	__builtin_memset(handover->pad, 0, sizeof(handover->pad));
	state->flags |= HTTP_EXCHANGE_GONE;
}

/* Most request lines are short: a fixed-size copy of the first SHORT_LINE bytes when that covers the line, of all
 * HTTP_EXCHANGE_MAX_LINE otherwise (these copies run under the entry's lock, on memory the other CPU wrote). */
#define SHORT_LINE 64

static __always_inline void copy_line(__u8 *to, const __u8 *from, __u32 length)
{
	if (length <= SHORT_LINE)
		__builtin_memcpy(to, from, SHORT_LINE);
	else
		__builtin_memcpy(to, from, HTTP_EXCHANGE_MAX_LINE);
}

static __always_inline void copy_request(struct http_exchange_request *to, const struct http_exchange_request *from)
{
	to->start_ns = from->start_ns;
	to->line_length = from->line_length;
	to->head = from->head;
	__builtin_memset(to->pad, 0, sizeof(to->pad));
	copy_line(to->line, from->line, from->line_length);
}

enum segment_outcome {
	SEGMENT_READ, /* consumed, state updated */
	SEGMENT_OLD, /* all of it seen before */
	SEGMENT_GONE, /* the connection was handed over meanwhile: pass it on */
	SEGMENT_ENDED, /* the connection is over (FIN both ways, RST): delete the entry */
	SEGMENT_EXCHANGE, /* a response completed an exchange: send the event */
};

/* Returns a port_filter counter (the frame's verdict), or -1 when the connection is not tracked here. `ports`: the
 * source port then the destination port, as on the wire. A global function, verified once on its own: inlined, it
 * was verified again for every way of reaching it (VLAN tags, IPv4 options, IPv6 extension headers). */
__noinline int track_exchange(struct __sk_buff *skb, __u32 ip, __u32 tcp, __u32 ip_end, __u32 wire_ports)
{
	__u16 ports[2];
	__u8 version_and_offset[2]; /* IP version nibble; TCP data offset nibble */
	struct http_exchange_key key;
	struct http_exchange_state *state;
	struct http_exchange_event *event = NULL;
	struct message_scan scan;
	__u64 now = bpf_ktime_get_ns();

	/* At most 5 arguments: the IP version and the payload's offset are read again here. */
	if (bpf_skb_load_bytes(skb, ip, &version_and_offset[0], 1) || bpf_skb_load_bytes(skb, tcp + 12, &version_and_offset[1], 1))
		return -1;
	__u8 family = version_and_offset[0] >> 4 == 4 ? 4 : 6;
	__u32 payload = tcp + (version_and_offset[1] >> 4) * 4;
	__u32 length = ip_end - payload;

	if (payload > ip_end)
		return -1; /* shorter than its headers: the caller keeps it, user space counts it */
	__builtin_memcpy(ports, &wire_ports, sizeof(ports));
	__u8 tcp_flags;
	__u32 seq;
	int source_is_a;

	if (bpf_skb_load_bytes(skb, tcp + 4, &seq, sizeof(seq)) || bpf_skb_load_bytes(skb, tcp + 13, &tcp_flags, 1))
		return -1;
	seq = bpf_ntohl(seq);
	source_is_a = exchange_key(skb, ip, family, ports, &key);
	if (source_is_a < 0)
		return -1;
	if ((tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return length ? -1 : exchange_opened(&key, seq, source_is_a, skb->pkt_type, now);
	state = bpf_map_lookup_elem(&http_exchanges, &key);
	if (!state)
		return -1;
	bool from_client = state->client_is_a == source_is_a;
	__u32 line = 0;
	__u16 status = 0;
	__u8 head = 0;

	/* Read the bytes before taking the lock (helpers cannot be called under it). */
	if (length && from_client) {
		line = simple_request(skb, payload, length, &scan, &head);
	} else if (length) {
		status = simple_response(skb, payload, length, &scan);
		if (status)
			event = bpf_ringbuf_reserve(&http_exchange_events, sizeof(*event), 0);
	}

	struct exchange_scratch *scratch;
	enum segment_outcome outcome = SEGMENT_READ;
	__u32 handover = 0; /* an HTTP_EXCHANGE_HANDOVER_* counter */
	bool unanswered = false;
	__u32 zero = 0;

	scratch = bpf_map_lookup_elem(&http_exchange_scratch, &zero);
	if (!scratch) {
		if (event)
			bpf_ringbuf_discard(event, 0);
		return -1;
	}
	if (!lock_state(state)) {
		if (event)
			bpf_ringbuf_discard(event, 0);
		count_exchange(HTTP_EXCHANGE_LOCK_BUSY, 1);
		return PORT_FILTER_EXCHANGE_READ;
	}
	if (state->flags & HTTP_EXCHANGE_GONE) {
		outcome = SEGMENT_GONE;
	} else if (tcp_flags & TCP_SYN) {
		/* SYN-ACK: the server's first byte comes next. */
		if (!from_client) {
			state->server_next = seq + 1;
			state->flags |= HTTP_EXCHANGE_SERVER_SYNCED;
		}
	} else if (length && from_client) {
		if ((__s32)(seq + length - state->client_next) <= 0) {
			outcome = SEGMENT_OLD;
		} else if (seq != state->client_next) {
			handover = HTTP_EXCHANGE_HANDOVER_SEQUENCE;
		} else if (state->pending.line_length) {
			handover = HTTP_EXCHANGE_HANDOVER_PIPELINED;
		} else if (!line) {
			handover = HTTP_EXCHANGE_HANDOVER_REQUEST;
		} else {
			state->pending.start_ns = now;
			state->pending.line_length = line;
			state->pending.head = head;
			copy_line(state->pending.line, scratch->bytes, line);
			state->client_next += length;
		}
	} else if (length) {
		__u32 body_here = status ? length - scan.header_end : 0;
		__s64 body = status ? body_length(status, state->pending.head, &scan) : -1;

		if (!(state->flags & HTTP_EXCHANGE_SERVER_SYNCED) || (__s32)(seq - state->server_next) > 0) {
			handover = HTTP_EXCHANGE_HANDOVER_SEQUENCE;
		} else if ((__s32)(seq + length - state->server_next) <= 0) {
			outcome = SEGMENT_OLD;
		} else if (seq != state->server_next) {
			handover = HTTP_EXCHANGE_HANDOVER_SEQUENCE;
		} else if (state->body_remaining) {
			/* A body segment; one that reaches past the body carries the next response, read by user space. */
			if (length <= state->body_remaining) {
				state->body_remaining -= length;
				state->server_next += length;
			} else {
				handover = HTTP_EXCHANGE_HANDOVER_RESPONSE;
			}
		} else if (!state->pending.line_length) {
			handover = HTTP_EXCHANGE_HANDOVER_UNPAIRED;
		} else if (!status || body < 0 || body_here > body) {
			handover = HTTP_EXCHANGE_HANDOVER_RESPONSE;
		} else {
			if (event)
				copy_request(&event->request, &state->pending);
			state->pending.line_length = 0;
			state->body_remaining = body - body_here;
			state->server_next += length;
			outcome = SEGMENT_EXCHANGE;
		}
	}
	if (outcome == SEGMENT_READ && !handover && (tcp_flags & (TCP_FIN | TCP_RST))) {
		if (tcp_flags & TCP_FIN)
			state->flags |= from_client ? HTTP_EXCHANGE_FIN_CLIENT : HTTP_EXCHANGE_FIN_SERVER;
		if ((tcp_flags & TCP_RST) ||
		    (state->flags & (HTTP_EXCHANGE_FIN_CLIENT | HTTP_EXCHANGE_FIN_SERVER)) ==
			    (HTTP_EXCHANGE_FIN_CLIENT | HTTP_EXCHANGE_FIN_SERVER)) {
			outcome = SEGMENT_ENDED;
			state->flags |= HTTP_EXCHANGE_GONE;
			unanswered = state->pending.line_length != 0;
		}
	}
	if (handover)
		prepare_handover(state, &scratch->handover);
	else
		state->last_seen_ns = now;
	__u8 side = state->side;
	__u8 client_is_a = state->client_is_a;

	unlock_state(state);

	if (event && outcome != SEGMENT_EXCHANGE) {
		bpf_ringbuf_discard(event, 0);
		event = NULL;
	}
	if (outcome == SEGMENT_GONE)
		return -1;
	if (outcome == SEGMENT_ENDED) {
		if (unanswered)
			count_exchange(HTTP_EXCHANGE_UNANSWERED_AT_CLOSE, 1);
		bpf_map_delete_elem(&http_exchanges, &key);
		return PORT_FILTER_EXCHANGE_READ;
	}
	if (handover) {
		count_exchange(handover, 1);
		if (bpf_map_update_elem(&http_exchange_handovers, &key, &scratch->handover, BPF_ANY))
			count_exchange(HTTP_EXCHANGE_HANDOVER_LOST, 1);
		bpf_map_delete_elem(&http_exchanges, &key);
		return PORT_FILTER_HANDED_OVER;
	}
	if (outcome == SEGMENT_EXCHANGE) {
		if (!event) {
			count_exchange(HTTP_EXCHANGE_RING_FULL, 1);
			return PORT_FILTER_EXCHANGE_READ;
		}
		event->response_ns = now;
		event->status = status;
		event->family = family;
		event->side = side;
		event->client_port = client_is_a ? key.port_a : key.port_b;
		event->server_port = client_is_a ? key.port_b : key.port_a;
		__builtin_memcpy(event->client, client_is_a ? key.address_a : key.address_b, 16);
		__builtin_memcpy(event->server, client_is_a ? key.address_b : key.address_a, 16);
		/* No wake-up per event (an irq_work each, microseconds at these rates): user space polls the ring. */
		bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
		count_exchange(HTTP_EXCHANGE_SENT, 1);
	}
	return PORT_FILTER_EXCHANGE_READ;
}
