// SPDX-License-Identifier: GPL-2.0
/* Per-flow accounting for the netflow receiver on tp_btf hooks (netflow_classic.bpf.c is the fallback on classic
 * tracepoints), no kprobes:
 * - tp_btf/inet_sock_set_state: TCP connect / accept / close, with direction from the kernel's own state machine,
 *   and tp_btf/tcp_destroy_sock as a second witness of the close;
 * - tp_btf/sock_send_length, sock_recv_length: TCP payload bytes, RTT and retransmits; socket owners (pid, comm);
 * - tp_btf/tcp_retransmit_skb: fresh retransmit counts for connections the application is not using;
 * - cgroup_skb ingress/egress (netflow_udp.h): UDP payload bytes per peer, which unconnected sockets only show at
 *   packet level;
 * - sockops (netflow_sockops.h): connect / accept / close once more, where a tracing program may not run.
 * Sockets are known by their cookie, which the kernel never reuses (unlike the struct sock address). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* tp_btf arguments are BTF pointers: plain loads, checked and relocated by the verifier. A struct sock pointer
 * reaches tcp_sock fields only through bpf_skc_to_tcp_sock, which checks that the socket is one. */
#define SOCK_READ(sk, field) ((sk)->field)
#define SOCK_READ_INTO(dst, sk, field) __builtin_memcpy((dst), (sk)->field, sizeof(*(dst)))
#define TCP_SOCK(sk) bpf_skc_to_tcp_sock((void *)(sk))
#define TCP_SOCK_READ(tp, field) ((tp)->field)
#include "netflow_common.h"
#include "netflow_udp.h"

/* sock_ops knows sockets by the same cookie. */
static __always_inline __u64 sockops_id(struct bpf_sock_ops *skops, bool born)
{
	return bpf_get_socket_cookie(skops);
}

static __always_inline void sockops_forget(struct bpf_sock_ops *skops)
{
}

#include "netflow_sockops.h"

static __always_inline bool is_inet(const struct sock *sk)
{
	return is_inet_family(sk->__sk_common.skc_family);
}

static __always_inline __u64 cookie_of(const struct sock *sk)
{
	return bpf_get_socket_cookie((void *)sk);
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
		record_owner(sk, cookie_of(sk));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netflow_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	bool established = newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV);
	if ((!established && newstate != TCP_CLOSE) || sk->sk_protocol != IPPROTO_TCP || !is_inet(sk))
		return 0;
	if (established)
		mark_established(sk, cookie_of(sk), oldstate);
	else
		mark_closed(sk, cookie_of(sk));
	return 0;
}

/* A second witness of the end of a TCP socket, in a program of its own: a CLOSE transition the kernel skipped
 * (recursion) is still seen here. Marking closed twice is harmless. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(netflow_tcp_destroy, struct sock *sk)
{
	if (is_inet(sk))
		mark_closed(sk, cookie_of(sk));
	return 0;
}

static __always_inline void on_transfer(const struct sock *sk, int ret, int flags, bool sent)
{
	if (ret <= 0 || (flags & MSG_PEEK) || !is_inet(sk))
		return;
	__u16 protocol = sk->sk_protocol;
	if (protocol == IPPROTO_TCP)
		on_tcp_transfer(sk, cookie_of(sk), ret, sent);
	else if (protocol == IPPROTO_UDP)
		record_owner(sk, cookie_of(sk)); /* UDP bytes are counted per peer at packet level */
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
	if (is_inet(sk))
		on_tcp_retransmit(sk, cookie_of(sk));
	return 0;
}
