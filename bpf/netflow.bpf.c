// SPDX-License-Identifier: GPL-2.0
/* Per-flow accounting for the netflow receiver, all on tracepoints and cgroup hooks (no kprobes):
 * - tp_btf/inet_sock_set_state: TCP connect / accept / close, with direction from the kernel's own state machine,
 *   and tp_btf/tcp_destroy_sock as a second witness of the close;
 * - tp_btf/sock_send_length, sock_recv_length: TCP payload bytes, RTT and retransmits; socket owners (pid, comm);
 * - tp_btf/tcp_retransmit_skb: fresh retransmit counts for connections the application is not using;
 * - cgroup_skb ingress/egress: UDP payload bytes per peer, which unconnected sockets only show at packet level. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "netflow.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define MSG_PEEK 2
#define E2BIG 7
#define EEXIST 17
#define SOCK_BINDPORT_LOCK 8

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct netflow_key);
	__type(value, struct netflow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct netflow_owner);
} socket_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETFLOW_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} netflow_counters SEC(".maps");

static __always_inline void count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&netflow_counters, &counter);
	if (value)
		*value += 1;
}

/* Accounts for the outcome of inserting a new flow: full map, inserted, or lost for another reason (EEXIST is a
 * concurrent insert of the same flow, which the caller then finds). */
static __always_inline void count_insert(long err)
{
	if (err == -E2BIG)
		count(NETFLOW_FLOWS_FULL);
	else if (err == 0)
		count(NETFLOW_FLOWS_CREATED);
	else if (err != -EEXIST)
		count(NETFLOW_INSERT_FAILED);
}

static __always_inline bool is_inet(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;
	return family == AF_INET || family == AF_INET6;
}

static __always_inline void record_owner(const struct sock *sk, __u64 cookie)
{
	if (bpf_map_lookup_elem(&socket_owners, &cookie))
		return;
	struct netflow_owner owner = {};
	owner.pid = bpf_get_current_pid_tgid() >> 32;
	owner.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	owner.udp_bound = sk->sk_protocol == IPPROTO_UDP && (sk->sk_userlocks & SOCK_BINDPORT_LOCK);
	bpf_get_current_comm(owner.comm, sizeof(owner.comm));
	if (bpf_map_update_elem(&socket_owners, &cookie, &owner, BPF_NOEXIST) == -E2BIG)
		count(NETFLOW_OWNERS_FULL);
}

static __always_inline void tcp_key(const struct sock *sk, __u64 cookie, struct netflow_key *key)
{
	key->cookie = cookie;
	key->remote_port = bpf_ntohs(sk->__sk_common.skc_dport);
	if (sk->__sk_common.skc_family == AF_INET)
		__builtin_memcpy(key->remote_addr, &sk->__sk_common.skc_daddr, 4);
	else
		BPF_CORE_READ_INTO(&key->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
}

/* The flow of a TCP socket, created on first sight (connections older than netlens start here with no state). */
static __always_inline struct netflow_stats *tcp_flow(const struct sock *sk, __u64 cookie)
{
	struct netflow_key key = {};
	tcp_key(sk, cookie, &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (stats)
		return stats;
	struct netflow_stats fresh = {};
	fresh.family = sk->__sk_common.skc_family;
	fresh.protocol = IPPROTO_TCP;
	fresh.local_port = sk->__sk_common.skc_num;
	if (fresh.family == AF_INET)
		__builtin_memcpy(fresh.local_addr, &sk->__sk_common.skc_rcv_saddr, 4);
	else
		BPF_CORE_READ_INTO(&fresh.local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	count_insert(bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST));
	return bpf_map_lookup_elem(&flows, &key);
}

/* RTT and retransmits straight from tcp_sock, the values `ss -ti` prints. */
static __always_inline void sample_tcp(const struct sock *sk, struct netflow_stats *stats)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	stats->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	stats->rttvar_us = BPF_CORE_READ(tp, mdev_us) >> 2;
	stats->total_retrans = BPF_CORE_READ(tp, total_retrans);
}

/* The kernel skips a tracing program that is already running on the CPU (a softirq interrupting it in process
 * context), so transitions that run in the owner's context and those that run in softirq use separate programs:
 * one can never make the other miss an event. What is still missed shows in the programs' recursion_misses, which
 * user space reports as drops. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netflow_tcp_owner, const struct sock *sk, const int oldstate, const int newstate)
{
	/* connect() and close()/shutdown() run in the owner's context. An accepted socket that is never read or
	 * written would otherwise have no owner: accept completes in softirq. */
	if (newstate != TCP_SYN_SENT && newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK)
		return 0;
	if (sk->sk_protocol == IPPROTO_TCP && is_inet(sk))
		record_owner(sk, bpf_get_socket_cookie((void *)sk));
	return 0;
}

static __always_inline void mark_closed(const struct sock *sk, __u64 cookie)
{
	struct netflow_key key = {};
	tcp_key(sk, cookie, &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (stats) {
		sample_tcp(sk, stats);
		stats->state |= FLOW_CLOSED;
	} else {
		/* A connect that never completed: nothing to report, so nothing for user space to clean. */
		bpf_map_delete_elem(&socket_owners, &cookie);
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netflow_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	bool established = newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV);
	if ((!established && newstate != TCP_CLOSE) || sk->sk_protocol != IPPROTO_TCP || !is_inet(sk))
		return 0;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	if (newstate == TCP_CLOSE) {
		mark_closed(sk, cookie);
		return 0;
	}
	struct netflow_stats *stats = tcp_flow(sk, cookie);
	if (!stats)
		return 0;
	stats->direction = oldstate == TCP_SYN_SENT ? FLOW_DIRECTION_OUTGOING : FLOW_DIRECTION_INCOMING;
	stats->state |= FLOW_ESTABLISHED;
	sample_tcp(sk, stats);
	return 0;
}

/* A second witness of the end of a TCP socket, in a program of its own: a CLOSE transition the kernel skipped
 * (recursion) is still seen here. Marking closed twice is harmless. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(netflow_tcp_destroy, struct sock *sk)
{
	if (is_inet(sk))
		mark_closed(sk, bpf_get_socket_cookie((void *)sk));
	return 0;
}

static __always_inline void on_transfer(const struct sock *sk, int ret, int flags, bool sent)
{
	if (ret <= 0 || (flags & MSG_PEEK) || !is_inet(sk))
		return;
	__u8 protocol = sk->sk_protocol;
	if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)
		return;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	if (protocol != IPPROTO_TCP) {
		record_owner(sk, cookie); /* UDP bytes are counted per peer at packet level */
		return;
	}
	struct netflow_stats *stats = tcp_flow(sk, cookie);
	if (!stats) {
		record_owner(sk, cookie);
		return;
	}
	if (!stats->owner_recorded) {
		record_owner(sk, cookie);
		stats->owner_recorded = 1;
	}
	if (sent)
		__sync_fetch_and_add(&stats->bytes_sent, ret);
	else
		__sync_fetch_and_add(&stats->bytes_received, ret);
	sample_tcp(sk, stats);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(netflow_send, struct sock *sk, int ret, int flags)
{
	on_transfer(sk, ret, flags, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(netflow_recv, struct sock *sk, int ret, int flags)
{
	on_transfer(sk, ret, flags, false);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(netflow_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	if (!is_inet(sk))
		return 0;
	struct netflow_key key = {};
	tcp_key(sk, bpf_get_socket_cookie((void *)sk), &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (stats)
		sample_tcp(sk, stats);
	return 0;
}

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
