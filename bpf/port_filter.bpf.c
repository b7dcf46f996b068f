// SPDX-License-Identifier: GPL-2.0
/* Capture filter for AF_PACKET SOCK_DGRAM sockets (SO_ATTACH_BPF): keeps UDP/TCP frames whose source or destination
 * port is one of `ports`. For SOCK_DGRAM packet sockets the kernel runs the filter with skb->data at the network
 * header, so offset 0 is the IP header (or an inline VLAN tag's TCI when skb->protocol is 0x8100/0x88a8).
 *
 * IP fragments: only the first fragment carries the ports. When it matches, its datagram's identity goes into
 * `port_filter_fragmented`, and the later fragments of that datagram are kept too, for user space to reassemble.
 * A later fragment captured before its first one (reordered on the way, or handled on another CPU first) is not
 * known yet and is dropped as `fragment`, so that datagram is lost: the filter cannot wait for what follows. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "port_filter.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define PACKET_OUTGOING 4
#define IP_OFFSET_MASK 0x1fff
#define IP_MORE_FRAGMENTS 0x2000
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define IPV6_FRAG_MORE 0x0001
/* IPv6 extension headers (vmlinux.h has IPPROTO_AH but not these, which are not in enum IPPROTO). */
#define IPV6_HOP_OPTIONS 0
#define IPV6_ROUTING 43
#define IPV6_FRAGMENT 44
#define IPV6_DESTINATION_OPTIONS 60
#define MAX_VLAN_TAGS 2
#define MAX_IPV6_EXTENSIONS 4

/* Tunables, host byte order, set before load. */
const volatile __u16 ports[PORT_FILTER_MAX_PORTS] = {};
const volatile __u32 port_count = 0;
const volatile __u8 match_udp = 1;
const volatile __u8 match_tcp = 1;
const volatile __u32 loopback_ifindex = 1;
/* TCP segments with at least this much payload are looked up in port_filter_skips; 0: never (no lookup). */
const volatile __u32 skip_min_payload = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PORT_FILTER_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} port_filter_counters SEC(".maps");

/* Fragmented datagrams whose first fragment was kept; LRU, so datagrams whose last fragment never came age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PORT_FILTER_MAX_FRAGMENTED);
	__type(key, struct port_filter_fragment_key);
	__type(value, __u8);
} port_filter_fragmented SEC(".maps");

/* Written by user space while its parser is inside a long body (the http receiver): such segments are kept without
 * their payload, which the parser would only count (the frame's original length still says how long it was). Only
 * segments entirely inside the range are cut: one that reaches past it may carry the next message or chunk-size
 * line. LRU: directions user space forgets age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PORT_FILTER_MAX_SKIPS);
	__type(key, struct port_filter_skip_key);
	__type(value, struct port_filter_skip);
} port_filter_skips SEC(".maps");

enum fragment_kind {
	NOT_FRAGMENT,
	FIRST_FRAGMENT,
	LATER_FRAGMENT,
};

static __always_inline void count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&port_filter_counters, &counter);

	if (value)
		*value += 1;
}

/* Returns the frame's verdict: 0 drops it, skb->len keeps all of it. */
static __always_inline int verdict(struct __sk_buff *skb, __u32 counter)
{
	count(counter);
	return counter == PORT_FILTER_MATCHED || counter == PORT_FILTER_FRAGMENT_KEPT || counter == PORT_FILTER_HANDED_OVER
		       ? skb->len
		       : 0;
}

#ifdef PORT_FILTER_EXCHANGES
#include "http_exchange.bpf.h"
#endif

/* Whether the segment's payload, `payload` bytes from `tcp` (the TCP header's offset), lies inside a range user
 * space skips. `ip` is the IP header's offset. */
static __always_inline bool payload_skipped(struct __sk_buff *skb, __u32 ip, __u32 tcp, __u32 payload, __u8 family,
					    __u16 ports[2])
{
	struct port_filter_skip_key key;
	struct port_filter_skip *skip;
	__u32 seq;

	__builtin_memset(&key, 0, sizeof(key));
	key.family = family;
	key.source_port = ports[0];
	key.destination_port = ports[1];
	if (family == 4) {
		if (bpf_skb_load_bytes(skb, ip + 12, key.source, 4) || bpf_skb_load_bytes(skb, ip + 16, key.destination, 4))
			return false;
	} else {
		if (bpf_skb_load_bytes(skb, ip + 8, key.source, 16) || bpf_skb_load_bytes(skb, ip + 24, key.destination, 16))
			return false;
	}
	skip = bpf_map_lookup_elem(&port_filter_skips, &key);
	if (!skip || bpf_skb_load_bytes(skb, tcp + 4, &seq, sizeof(seq)))
		return false;
	seq = bpf_ntohl(seq);
	return (__s32)(seq - skip->from) >= 0 && (__s32)(skip->until - (seq + payload)) >= 0;
}

static __always_inline bool port_wanted(__u16 port)
{
	#pragma unroll
	for (int i = 0; i < PORT_FILTER_MAX_PORTS; i++) {
		if (i >= port_count)
			break;
		if (ports[i] == port)
			return true;
	}
	return false;
}

/* Walks IPv6 extension headers from `offset`; returns the transport protocol and moves `offset` past them, or
 * returns a negative counter index (negated) when the packet must be dropped. A fragment header sets `fragment`
 * and the key's id and protocol; a later fragment returns at it (what follows is the datagram's middle). */
static __always_inline int ipv6_transport(struct __sk_buff *skb, __u32 *offset, struct port_filter_fragment_key *key,
					  enum fragment_kind *fragment)
{
	__u8 next;

	if (bpf_skb_load_bytes(skb, *offset + 6, &next, 1))
		return -PORT_FILTER_MALFORMED;
	*offset += 40;
	#pragma unroll
	for (int i = 0; i < MAX_IPV6_EXTENSIONS; i++) {
		__u8 ext[8];

		switch (next) {
		case IPV6_HOP_OPTIONS:
		case IPV6_ROUTING:
		case IPV6_DESTINATION_OPTIONS:
			if (bpf_skb_load_bytes(skb, *offset, ext, 2))
				return -PORT_FILTER_MALFORMED;
			next = ext[0];
			*offset += ((__u32)ext[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (bpf_skb_load_bytes(skb, *offset, ext, 2))
				return -PORT_FILTER_MALFORMED;
			next = ext[0];
			*offset += ((__u32)ext[1] + 2) * 4;
			break;
		case IPV6_FRAGMENT:
			if (bpf_skb_load_bytes(skb, *offset, ext, 8))
				return -PORT_FILTER_MALFORMED;
			__u16 flags = bpf_ntohs(*(__u16 *)&ext[2]);

			next = ext[0];
			key->protocol = next;
			__builtin_memcpy(&key->id, &ext[4], 4);
			if (flags & IPV6_FRAG_OFFSET_MASK) {
				*fragment = LATER_FRAGMENT;
				return next;
			}
			/* Offset 0 without more fragments is an atomic fragment: a whole datagram. */
			if (flags & IPV6_FRAG_MORE)
				*fragment = FIRST_FRAGMENT;
			*offset += 8;
			break;
		default:
			return next;
		}
	}
	switch (next) {
	case IPV6_HOP_OPTIONS:
	case IPV6_ROUTING:
	case IPV6_DESTINATION_OPTIONS:
	case IPPROTO_AH:
	case IPV6_FRAGMENT:
		return -PORT_FILTER_MALFORMED;
	}
	return next;
}

SEC("socket")
int port_filter(struct __sk_buff *skb)
{
	__u16 protocol = bpf_ntohs(skb->protocol);
	struct port_filter_fragment_key key;
	enum fragment_kind fragment = NOT_FRAGMENT;
	__u32 offset = 0;
	__u32 ip_start;
	__u32 ip_end; /* offset just past the IP packet (its length fields), to see whether TCP carries payload */
	int transport;

	__builtin_memset(&key, 0, sizeof(key));
	count(PORT_FILTER_SEEN);
	if (skb->pkt_type == PACKET_OUTGOING && skb->ifindex == loopback_ifindex)
		return verdict(skb, PORT_FILTER_LOOPBACK_DUPLICATE);

	#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		__u16 tag[2]; /* TCI, encapsulated protocol */

		if (protocol != ETH_P_8021Q && protocol != ETH_P_8021AD)
			break;
		if (bpf_skb_load_bytes(skb, offset, tag, sizeof(tag)))
			return verdict(skb, PORT_FILTER_MALFORMED);
		protocol = bpf_ntohs(tag[1]);
		offset += sizeof(tag);
	}

	ip_start = offset;
	if (protocol == ETH_P_IP) {
		__u8 header[20];

		if (bpf_skb_load_bytes(skb, offset, header, sizeof(header)))
			return verdict(skb, PORT_FILTER_MALFORMED);
		if ((header[0] >> 4) != 4 || (header[0] & 0xf) < 5)
			return verdict(skb, PORT_FILTER_MALFORMED);
		__u16 flags = bpf_ntohs(*(__u16 *)&header[6]);

		transport = header[9];
		ip_end = offset + bpf_ntohs(*(__u16 *)&header[2]);
		if (flags & (IP_OFFSET_MASK | IP_MORE_FRAGMENTS)) {
			fragment = flags & IP_OFFSET_MASK ? LATER_FRAGMENT : FIRST_FRAGMENT;
			key.family = 4;
			key.protocol = transport;
			__builtin_memcpy(&key.id, &header[4], 2);
			__builtin_memcpy(key.source, &header[12], 4);
			__builtin_memcpy(key.destination, &header[16], 4);
		}
		offset += (header[0] & 0xf) * 4;
	} else if (protocol == ETH_P_IPV6) {
		__u32 start = offset;
		__u16 payload_length;

		if (bpf_skb_load_bytes(skb, start + 4, &payload_length, sizeof(payload_length)))
			return verdict(skb, PORT_FILTER_MALFORMED);
		ip_end = start + 40 + bpf_ntohs(payload_length);
		transport = ipv6_transport(skb, &offset, &key, &fragment);
		if (transport < 0)
			return verdict(skb, -transport);
		if (fragment != NOT_FRAGMENT) {
			key.family = 6;
			if (bpf_skb_load_bytes(skb, start + 8, key.source, sizeof(key.source)) ||
			    bpf_skb_load_bytes(skb, start + 24, key.destination, sizeof(key.destination)))
				return verdict(skb, PORT_FILTER_MALFORMED);
		}
	} else {
		return verdict(skb, PORT_FILTER_NOT_IP);
	}
	if (fragment == LATER_FRAGMENT) {
		bool known = bpf_map_lookup_elem(&port_filter_fragmented, &key);

		return verdict(skb, known ? PORT_FILTER_FRAGMENT_KEPT : PORT_FILTER_FRAGMENT);
	}

	if (!((transport == IPPROTO_UDP && match_udp) || (transport == IPPROTO_TCP && match_tcp)))
		return verdict(skb, PORT_FILTER_NOT_MATCHED);

	__u16 endpoints[2]; /* source port, destination port */

	if (bpf_skb_load_bytes(skb, offset, endpoints, sizeof(endpoints)))
		return verdict(skb, PORT_FILTER_MALFORMED);
	if (!port_wanted(bpf_ntohs(endpoints[0])) && !port_wanted(bpf_ntohs(endpoints[1])))
		return verdict(skb, PORT_FILTER_NOT_MATCHED);
	if (transport == IPPROTO_TCP && fragment == NOT_FRAGMENT) {
		__u8 data_offset_and_flags[2]; /* TCP header bytes 12-13 */

		if (bpf_skb_load_bytes(skb, offset + 12, data_offset_and_flags, sizeof(data_offset_and_flags)))
			return verdict(skb, PORT_FILTER_MALFORMED);
		__u32 header_end = offset + (data_offset_and_flags[0] >> 4) * 4;

		/* A bare ACK carries nothing the parsers read: most of a request/response exchange's segments. */
		if (ip_end <= header_end && !(data_offset_and_flags[1] & (TCP_FIN | TCP_SYN | TCP_RST)))
			return verdict(skb, PORT_FILTER_TCP_NO_PAYLOAD);
#ifdef PORT_FILTER_EXCHANGES
		{
			__u32 wire_ports;

			__builtin_memcpy(&wire_ports, endpoints, sizeof(wire_ports));
			int tracked = track_exchange(skb, ip_start, offset, ip_end, wire_ports);

			if (tracked >= 0)
				return verdict(skb, tracked);
		}
#endif
		if (skip_min_payload && ip_end >= header_end + skip_min_payload &&
		    payload_skipped(skb, ip_start, offset, ip_end - header_end, protocol == ETH_P_IP ? 4 : 6, endpoints)) {
			count(PORT_FILTER_PAYLOAD_SKIPPED);
			return header_end;
		}
	}
	if (fragment == FIRST_FRAGMENT) {
		__u8 seen = 1;

		/* Cannot fail for want of room (LRU); if it fails anyway, the later fragments are counted as `fragment`. */
		bpf_map_update_elem(&port_filter_fragmented, &key, &seen, BPF_ANY);
	}
	return verdict(skb, PORT_FILTER_MATCHED);
}

char LICENSE[] SEC("license") = "GPL";
