// SPDX-License-Identifier: GPL-2.0
/* Capture filter for AF_PACKET SOCK_DGRAM sockets (SO_ATTACH_BPF): keeps UDP/TCP frames whose source or destination
 * port is one of `ports`. For SOCK_DGRAM packet sockets the kernel runs the filter with skb->data at the network
 * header, so offset 0 is the IP header (or an inline VLAN tag's TCI when skb->protocol is 0x8100/0x88a8). */
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
#define IPV6_FRAG_OFFSET_MASK 0xfff8
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PORT_FILTER_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} port_filter_counters SEC(".maps");

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
	return counter == PORT_FILTER_MATCHED ? skb->len : 0;
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
 * returns a negative counter index (negated) when the packet must be dropped. */
static __always_inline int ipv6_transport(struct __sk_buff *skb, __u32 *offset)
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
			if (bpf_ntohs(*(__u16 *)&ext[2]) & IPV6_FRAG_OFFSET_MASK)
				return -PORT_FILTER_FRAGMENT;
			next = ext[0];
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
	__u32 offset = 0;
	int transport;

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

	if (protocol == ETH_P_IP) {
		__u8 header[20];

		if (bpf_skb_load_bytes(skb, offset, header, sizeof(header)))
			return verdict(skb, PORT_FILTER_MALFORMED);
		if ((header[0] >> 4) != 4 || (header[0] & 0xf) < 5)
			return verdict(skb, PORT_FILTER_MALFORMED);
		if (bpf_ntohs(*(__u16 *)&header[6]) & IP_OFFSET_MASK)
			return verdict(skb, PORT_FILTER_FRAGMENT);
		transport = header[9];
		offset += (header[0] & 0xf) * 4;
	} else if (protocol == ETH_P_IPV6) {
		transport = ipv6_transport(skb, &offset);
		if (transport < 0)
			return verdict(skb, -transport);
	} else {
		return verdict(skb, PORT_FILTER_NOT_IP);
	}

	if (!((transport == IPPROTO_UDP && match_udp) || (transport == IPPROTO_TCP && match_tcp)))
		return verdict(skb, PORT_FILTER_NOT_MATCHED);

	__u16 endpoints[2]; /* source port, destination port */

	if (bpf_skb_load_bytes(skb, offset, endpoints, sizeof(endpoints)))
		return verdict(skb, PORT_FILTER_MALFORMED);
	if (port_wanted(bpf_ntohs(endpoints[0])) || port_wanted(bpf_ntohs(endpoints[1])))
		return verdict(skb, PORT_FILTER_MATCHED);
	return verdict(skb, PORT_FILTER_NOT_MATCHED);
}

char LICENSE[] SEC("license") = "GPL";
