/* UDP accounting at packet level (cgroup_skb), the same in both netflow objects: each includes it after
 * netflow_common.h, and only one object is loaded. It keys flows by bpf_get_socket_cookie(skb), which cgroup_skb can
 * call with either kind of tracepoint hooks, so UDP owners are always recorded under the socket cookie. */
#ifndef NETFLOW_UDP_H
#define NETFLOW_UDP_H

#include "netflow_common.h"

/* UDP at packet level: the peer of an unconnected socket is only in the packet. `egress` tells which side is local. */
static __always_inline void on_udp_packet(struct __sk_buff *skb, bool egress)
{
	struct netflow_key key = {};
	struct netflow_stats fresh = {};
	__u32 udp_offset;
	__u8 protocol;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			goto unparsed;
		if (ip.protocol != IPPROTO_UDP)
			return;
		udp_offset = ip.ihl * 4;
		fresh.family = AF_INET;
		__builtin_memcpy(key.remote_addr, egress ? (void *)&ip.daddr : (void *)&ip.saddr, 4);
		__builtin_memcpy(fresh.local_addr, egress ? (void *)&ip.saddr : (void *)&ip.daddr, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			goto unparsed;
		if (ip6.nexthdr != IPPROTO_UDP)
			return; /* extension headers before UDP are rare enough to leave to a later version */
		udp_offset = sizeof(ip6);
		fresh.family = AF_INET6;
		__builtin_memcpy(key.remote_addr, egress ? (void *)&ip6.daddr : (void *)&ip6.saddr, 16);
		__builtin_memcpy(fresh.local_addr, egress ? (void *)&ip6.saddr : (void *)&ip6.daddr, 16);
	} else {
		return;
	}
	struct udphdr udp;
	if (bpf_skb_load_bytes(skb, udp_offset, &udp, sizeof(udp)))
		goto unparsed;
	__u16 length = bpf_ntohs(udp.len);
	if (length < sizeof(udp))
		goto unparsed;
	protocol = IPPROTO_UDP;
	key.cookie = bpf_get_socket_cookie(skb);
	key.remote_port = bpf_ntohs(egress ? udp.dest : udp.source);

	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (!stats) {
		fresh.protocol = protocol;
		fresh.local_port = bpf_ntohs(egress ? udp.source : udp.dest);
		count_insert(bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST));
		stats = bpf_map_lookup_elem(&flows, &key);
		if (!stats)
			return;
	}
	__u64 payload = length - sizeof(udp);
	if (egress)
		__sync_fetch_and_add(&stats->bytes_sent, payload);
	else
		__sync_fetch_and_add(&stats->bytes_received, payload);
	return;
unparsed:
	count(NETFLOW_UDP_UNPARSED);
}

/* These run for every packet of every socket: TCP (counted by the tracepoints) leaves at the socket's protocol,
 * without reading the packet. */
static __always_inline bool udp_socket(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	return sk && sk->protocol == IPPROTO_UDP;
}

SEC("cgroup_skb/egress")
int netflow_udp_egress(struct __sk_buff *skb)
{
	if (udp_socket(skb))
		on_udp_packet(skb, true);
	return 1;
}

SEC("cgroup_skb/ingress")
int netflow_udp_ingress(struct __sk_buff *skb)
{
	if (udp_socket(skb))
		on_udp_packet(skb, false);
	return 1;
}

#endif
