/* What the two netflow objects share: netflow.bpf.c (tp_btf hooks) and netflow_classic.bpf.c (classic tracepoints,
 * the fallback) fill the same maps the same way, so user space reads either one alike. Only one of them is loaded.
 *
 * The helpers take the socket's identity from the caller (the socket cookie with tp_btf, a netlens-assigned id with
 * classic tracepoints, which cannot call bpf_get_socket_cookie) and read the socket through SOCK_READ and
 * SOCK_READ_INTO (struct sock fields), TCP_SOCK (its struct tcp_sock, NULL if it is not a full TCP socket) and
 * TCP_SOCK_READ, which the including object may define. tp_btf programs hold a BTF pointer they may
 * dereference, with plain loads; classic tracepoints a plain address that only bpf_probe_read_kernel
 * (BPF_CORE_READ) may read, a helper call per field. The send and receive hooks run for every socket call, so the
 * difference counts. */
#ifndef NETFLOW_COMMON_H
#define NETFLOW_COMMON_H

#include "netflow.h"

/* By default every read goes through bpf_probe_read_kernel, which any program type may use. */
#ifndef SOCK_READ
#define SOCK_READ(sk, field) BPF_CORE_READ(sk, field)
#define SOCK_READ_INTO(dst, sk, field) BPF_CORE_READ_INTO(dst, sk, field)
#define TCP_SOCK(sk) ((const struct tcp_sock *)(sk))
#define TCP_SOCK_READ(tp, field) BPF_CORE_READ(tp, field)
#endif

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

/* Keyed by the same socket identity as netflow_key.cookie: user space joins the two on it. */
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

static __always_inline bool is_inet_family(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

/* The process in whose context this runs owns the socket `id`; the first one seen keeps it. */
static __always_inline void record_owner(const struct sock *sk, __u64 id)
{
	if (bpf_map_lookup_elem(&socket_owners, &id))
		return;
	struct netflow_owner owner = {};
	owner.pid = bpf_get_current_pid_tgid() >> 32;
	owner.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	owner.udp_bound = SOCK_READ(sk, sk_protocol) == IPPROTO_UDP && (SOCK_READ(sk, sk_userlocks) & SOCK_BINDPORT_LOCK);
	bpf_get_current_comm(owner.comm, sizeof(owner.comm));
	if (bpf_map_update_elem(&socket_owners, &id, &owner, BPF_NOEXIST) == -E2BIG)
		count(NETFLOW_OWNERS_FULL);
}

static __always_inline void tcp_key(const struct sock *sk, __u64 id, struct netflow_key *key)
{
	key->cookie = id;
	key->remote_port = bpf_ntohs(SOCK_READ(sk, __sk_common.skc_dport));
	if (SOCK_READ(sk, __sk_common.skc_family) == AF_INET) {
		__be32 address = SOCK_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(key->remote_addr, &address, 4);
	} else {
		SOCK_READ_INTO(&key->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

/* The flow of a TCP socket, created on first sight (connections older than netlens start here with no state). */
static __always_inline struct netflow_stats *tcp_flow(const struct sock *sk, __u64 id)
{
	struct netflow_key key = {};
	tcp_key(sk, id, &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (stats)
		return stats;
	struct netflow_stats fresh = {};
	fresh.family = SOCK_READ(sk, __sk_common.skc_family);
	fresh.protocol = IPPROTO_TCP;
	fresh.local_port = SOCK_READ(sk, __sk_common.skc_num);
	if (fresh.family == AF_INET) {
		__be32 address = SOCK_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(fresh.local_addr, &address, 4);
	} else {
		SOCK_READ_INTO(&fresh.local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	}
	count_insert(bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST));
	return bpf_map_lookup_elem(&flows, &key);
}

/* RTT and retransmits straight from tcp_sock, the values `ss -ti` prints. */
static __always_inline void sample_tcp(const struct sock *sk, struct netflow_stats *stats)
{
	const struct tcp_sock *tp = TCP_SOCK(sk);
	if (!tp)
		return;
	stats->srtt_us = TCP_SOCK_READ(tp, srtt_us) >> 3;
	stats->rttvar_us = TCP_SOCK_READ(tp, mdev_us) >> 2;
	stats->total_retrans = TCP_SOCK_READ(tp, total_retrans);
}

/* The handshake of a TCP socket completed (SYN_SENT or SYN_RECV -> ESTABLISHED) while netlens watched. */
static __always_inline void mark_established(const struct sock *sk, __u64 id, int oldstate)
{
	struct netflow_stats *stats = tcp_flow(sk, id);
	if (!stats)
		return;
	stats->direction = oldstate == TCP_SYN_SENT ? FLOW_DIRECTION_OUTGOING : FLOW_DIRECTION_INCOMING;
	stats->state |= FLOW_ESTABLISHED;
	sample_tcp(sk, stats);
}

static __always_inline void mark_closed(const struct sock *sk, __u64 id)
{
	struct netflow_key key = {};
	tcp_key(sk, id, &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (stats) {
		sample_tcp(sk, stats);
		stats->state |= FLOW_CLOSED;
	} else {
		/* A connect that never completed: nothing to report, so nothing for user space to clean. */
		bpf_map_delete_elem(&socket_owners, &id);
	}
}

/* `ret` payload bytes moved by the process owning the TCP socket `id`. */
static __always_inline void on_tcp_transfer(const struct sock *sk, __u64 id, int ret, bool sent)
{
	struct netflow_stats *stats = tcp_flow(sk, id);
	if (!stats) {
		record_owner(sk, id);
		return;
	}
	if (!stats->owner_recorded) {
		record_owner(sk, id);
		stats->owner_recorded = 1;
	}
	if (sent)
		__sync_fetch_and_add(&stats->bytes_sent, ret);
	else
		__sync_fetch_and_add(&stats->bytes_received, ret);
	sample_tcp(sk, stats);
}

static __always_inline void on_tcp_retransmit(const struct sock *sk, __u64 id)
{
	struct netflow_key key = {};
	tcp_key(sk, id, &key);
	struct netflow_stats *stats = bpf_map_lookup_elem(&flows, &key);
	if (stats)
		sample_tcp(sk, stats);
}

#endif
