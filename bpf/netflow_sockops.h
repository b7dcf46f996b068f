/* A second path that witnesses TCP connections, the same in both netflow objects: a sock_ops program on the cgroup
 * (like the UDP programs, netflow_udp.h) sees each connection established and, through the state callback it asks
 * for, closed. The tracing programs of either object can miss these events: a run the kernel skips because the
 * program is already running on the CPU is counted (recursion_misses), but some kernels also run no tracing program
 * at all in some tasks' context, without counting it (on the test VMs, a softirq running on a thread of PID 1: the
 * CLOSE transition and tcp_destroy_sock, which come from one softirq, were both lost). sock_ops runs from the TCP
 * stack itself, in every context, for the sockets of the cgroup's processes that were established while it was
 * attached. Marks are bits, so a connection both paths see is counted once.
 *
 * The including object defines, before including this file:
 *   sockops_id(skops, born): the socket's identity in the flows map (cookie, or classic id), 0 if none; `born`: the
 *     connection is being established, so an identity may be assigned;
 *   sockops_forget(skops): the socket has ended, its identity can go. */
#ifndef NETFLOW_SOCKOPS_H
#define NETFLOW_SOCKOPS_H

#include "netflow_common.h"

static __always_inline void sockops_key(const struct bpf_sock_ops *skops, __u64 id, struct netflow_key *key)
{
	key->cookie = id;
	key->remote_port = bpf_ntohl(skops->remote_port); /* the network-order port in the high half */
	if (skops->family == AF_INET) {
		__u32 address = skops->remote_ip4;
		__builtin_memcpy(key->remote_addr, &address, 4);
	} else {
		__u32 address[4] = { skops->remote_ip6[0], skops->remote_ip6[1], skops->remote_ip6[2], skops->remote_ip6[3] };
		__builtin_memcpy(key->remote_addr, address, 16);
	}
}

/* What sample_tcp() reads, from the socket's tcp_sock (the sock_ops context has no mdev_us). */
static __always_inline void sockops_sample(const struct bpf_sock_ops *skops, struct netflow_stats *stats)
{
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return;
	stats->srtt_us = tp->srtt_us >> 3;
	stats->rttvar_us = tp->mdev_us >> 2;
	stats->total_retrans = tp->total_retrans;
}

/* As mark_established(), for a connection that completed its handshake in `direction`. */
static __always_inline void sockops_established(const struct bpf_sock_ops *skops, __u64 id, __u8 direction)
{
	struct netflow_key key = {};
	sockops_key(skops, id, &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (!stats) {
		struct netflow_stats fresh = {};
		fresh.family = skops->family;
		fresh.protocol = IPPROTO_TCP;
		fresh.local_port = skops->local_port; /* host order */
		if (fresh.family == AF_INET) {
			__u32 address = skops->local_ip4;
			__builtin_memcpy(fresh.local_addr, &address, 4);
		} else {
			__u32 address[4] = { skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2], skops->local_ip6[3] };
			__builtin_memcpy(fresh.local_addr, address, 16);
		}
		count_insert(bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST));
		stats = bpf_map_lookup_elem(&flows, &key);
		if (!stats)
			return;
	}
	stats->direction = direction;
	stats->state |= FLOW_ESTABLISHED;
	sockops_sample(skops, stats);
}

/* As mark_closed(): the socket reaches CLOSE (the callback runs before the tracepoint does). */
static __always_inline void sockops_closed(const struct bpf_sock_ops *skops, __u64 id)
{
	struct netflow_key key = {};
	sockops_key(skops, id, &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (stats) {
		sockops_sample(skops, stats);
		stats->state |= FLOW_CLOSED;
	} else {
		bpf_map_delete_elem(&socket_owners, &id);
	}
}

SEC("sockops")
int netflow_tcp_sockops(struct bpf_sock_ops *skops)
{
	if (!is_inet_family(skops->family))
		return 1;
	__u32 op = skops->op;
	__u64 id;
	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		/* Ask for the state callback of this socket: its close. */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		id = sockops_id(skops, true);
		if (id)
			sockops_established(skops, id,
					    op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ? FLOW_DIRECTION_OUTGOING : FLOW_DIRECTION_INCOMING);
	} else if (op == BPF_SOCK_OPS_STATE_CB && skops->args[1] == TCP_CLOSE) {
		id = sockops_id(skops, false);
		if (id)
			sockops_closed(skops, id);
		sockops_forget(skops);
	}
	return 1;
}

#endif
