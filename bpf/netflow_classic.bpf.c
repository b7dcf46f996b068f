// SPDX-License-Identifier: GPL-2.0
/* The netflow programs on classic tracepoints: the fallback where the tp_btf hooks of netflow.bpf.c are unavailable
 * (`hooks: classic`, or `auto` when netflow.bpf.o does not load or attach). Same maps, same entries. What differs:
 * - the context is the tracepoint's format struct (/sys/kernel/tracing/events/.../format, relocated by CO-RE), and
 *   its struct sock pointer is a plain address: every read goes through BPF_CORE_READ;
 * - bpf_get_socket_cookie is not available to these programs, so TCP sockets are known by an id assigned here
 *   (socket_ids), and UDP owners by the cookie the cgroup_skb programs already gave the socket;
 * - the kernel runs at most one classic tracepoint program per CPU at a time, whichever it is: an event in a softirq
 *   that interrupts any of them is skipped (counted in recursion_misses and reported as a drop by user space), so
 *   splitting programs by context as netflow.bpf.c does would buy nothing. One program per tracepoint. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "netflow_common.h"
#include "netflow_udp.h"

/* TCP socket ids by struct sock address. An address is reused once its socket is freed, so a socket gets a fresh id
 * when it is born (connect, or the child of a listener), replacing whatever the address had, and the address is
 * forgotten when the socket reaches CLOSE or is destroyed. A socket older than netlens gets its id on first sight.
 * LRU: the entry of a socket whose end was skipped (recursion) is evicted first instead of filling the map; live
 * sockets are evicted only when there are more than max_entries of them, when socket_owners (the same size) is full
 * as well and counts it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} socket_ids SEC(".maps");

/* Ids start above every socket cookie (a kernel counter from 1, nowhere near 2^52), so a TCP id never names the
 * owner of a UDP socket in socket_owners, and stay below 2^53, which user space reads exactly as a number. */
#define SOCKET_ID_BASE (1ULL << 52)
__u64 next_socket_id = 0;

static __always_inline __u64 take_socket_id(void)
{
	return SOCKET_ID_BASE | __sync_fetch_and_add(&next_socket_id, 1);
}

/* A socket being born: a fresh id, whatever id its address had (a socket whose end was skipped). 0 on failure. */
static __always_inline __u64 new_socket_id(__u64 address)
{
	__u64 id = take_socket_id();
	if (bpf_map_update_elem(&socket_ids, &address, &id, BPF_ANY)) {
		count(NETFLOW_SOCKET_ID_FAILED);
		return 0;
	}
	return id;
}

/* The id of a socket seen before, or a new one for a socket seen for the first time. 0 on failure. */
static __always_inline __u64 socket_id(__u64 address)
{
	__u64 *known = bpf_map_lookup_elem(&socket_ids, &address);
	if (known)
		return *known;
	__u64 id = take_socket_id();
	long err = bpf_map_update_elem(&socket_ids, &address, &id, BPF_NOEXIST);
	if (err == -EEXIST) /* another CPU saw it first: theirs */
		known = bpf_map_lookup_elem(&socket_ids, &address);
	else if (err == 0)
		return id;
	if (known)
		return *known;
	count(NETFLOW_SOCKET_ID_FAILED);
	return 0;
}

/* The end of a TCP socket: its flow is closed and its address forgotten. Nothing to do for a socket never seen. */
static __always_inline void on_tcp_end(const struct sock *sk)
{
	__u64 address = (__u64)sk;
	__u64 *id = bpf_map_lookup_elem(&socket_ids, &address);
	if (!id)
		return;
	mark_closed(sk, *id);
	bpf_map_delete_elem(&socket_ids, &address);
}

SEC("tracepoint/sock/inet_sock_set_state")
int netflow_classic_tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP || !is_inet_family(ctx->family))
		return 0;
	const struct sock *sk = ctx->skaddr;
	int oldstate = ctx->oldstate;
	__u64 id;
	switch (ctx->newstate) {
	case TCP_SYN_SENT: /* connect(), in the owner's context */
		id = new_socket_id((__u64)sk);
		if (id)
			record_owner(sk, id);
		break;
	case TCP_SYN_RECV: /* the child of a listener, cloned as the handshake completes */
		if (oldstate == TCP_LISTEN)
			new_socket_id((__u64)sk);
		break;
	case TCP_ESTABLISHED:
		if (oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV)
			break;
		id = socket_id((__u64)sk);
		if (id)
			mark_established(sk, id, oldstate);
		break;
	case TCP_FIN_WAIT1:
	case TCP_LAST_ACK:
		/* close()/shutdown(), in the owner's context: an accepted socket never read nor written gets its owner. */
		id = socket_id((__u64)sk);
		if (id)
			record_owner(sk, id);
		break;
	case TCP_CLOSE:
		on_tcp_end(sk);
		break;
	}
	return 0;
}

/* A second witness of the end of a TCP socket: a CLOSE transition that was skipped is still seen here (unless the
 * same softirq skipped both, which leaves the socket's entry to LRU eviction or the next socket born there). */
SEC("tracepoint/tcp/tcp_destroy_sock")
int netflow_classic_tcp_destroy(struct trace_event_raw_tcp_event_sk *ctx)
{
	if (is_inet_family(ctx->family))
		on_tcp_end(ctx->skaddr);
	return 0;
}

static __always_inline void on_transfer(struct trace_event_raw_sock_msg_length *ctx, bool sent)
{
	int ret = ctx->ret;
	if (ret <= 0 || (ctx->flags & MSG_PEEK) || !is_inet_family(ctx->family))
		return;
	const struct sock *sk = ctx->sk;
	if (ctx->protocol == IPPROTO_TCP) {
		__u64 id = socket_id((__u64)sk);
		if (id)
			on_tcp_transfer(sk, id, ret, sent);
	} else if (ctx->protocol == IPPROTO_UDP) {
		/* UDP flows are keyed by the cookie bpf_get_socket_cookie(skb) generated when the socket's first packet
		 * passed the cgroup_skb programs, before sendmsg/recvmsg returned. Still 0: no packet of this socket was
		 * counted (udp: false, or outside cgroup_path), so there is no flow to own. */
		__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
		if (cookie)
			record_owner(sk, cookie);
	}
}

/* sock_ops (netflow_sockops.h) finds the classic id by the socket's address, which it holds as a pointer: read as a
 * number, as these tracepoint programs read it (netlens loads with CAP_PERFMON, which allows it). 0: no full socket. */
static __always_inline __u64 sockops_address(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	return sk ? (__u64)sk : 0;
}

static __always_inline __u64 sockops_id(struct bpf_sock_ops *skops, bool born)
{
	__u64 address = sockops_address(skops);
	if (!address)
		return 0;
	if (born)
		return socket_id(address);
	__u64 *id = bpf_map_lookup_elem(&socket_ids, &address);
	return id ? *id : 0;
}

/* The CLOSE transition the tracepoint sees next finds no id, and tcp_destroy_sock neither: marked once. */
static __always_inline void sockops_forget(struct bpf_sock_ops *skops)
{
	__u64 address = sockops_address(skops);
	if (address)
		bpf_map_delete_elem(&socket_ids, &address);
}

#include "netflow_sockops.h"

SEC("tracepoint/sock/sock_send_length")
int netflow_classic_send(struct trace_event_raw_sock_msg_length *ctx)
{
	on_transfer(ctx, true);
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int netflow_classic_recv(struct trace_event_raw_sock_msg_length *ctx)
{
	on_transfer(ctx, false);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int netflow_classic_retransmit(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	if (!is_inet_family(ctx->family))
		return 0;
	__u64 address = (__u64)ctx->skaddr;
	__u64 *id = bpf_map_lookup_elem(&socket_ids, &address);
	if (id)
		on_tcp_retransmit(ctx->skaddr, *id);
	return 0;
}
