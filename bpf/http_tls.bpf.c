// SPDX-License-Identifier: GPL-2.0
/* HTTPS through OpenSSL: uprobes on SSL_write/SSL_read (and their _ex variants) in libssl copy the start of each
 * call's plaintext into a ring buffer, where src/receivers/http reads it with the same HTTP/1.x parser as captured
 * packets. The entry probe remembers the buffer per thread; the return probe knows how many bytes moved and copies
 * at most HTTP_TLS_MAX_DATA of them. The socket is learnt from the socket I/O the call makes (tp_btf on
 * sock_send_length / sock_recv_length, which fire only for socket I/O and hand over the struct sock itself, so no
 * program runs on the node's other read/write syscalls) and cached per SSL*, since a call served from OpenSSL's
 * own buffer makes none. Programs that statically link their TLS library (Go, Node, Java) are not seen. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "http_tls.h"

#define AF_INET 2
#define AF_INET6 10

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct http_tls_call);
} http_tls_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct http_tls_socket_key);
	__type(value, struct http_tls_socket);
} http_tls_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} http_tls_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HTTP_TLS_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} http_tls_counters SEC(".maps");

static __always_inline void count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&http_tls_counters, &counter);

	if (value)
		*value += 1;
}

static __always_inline int enter(void *ssl, const void *buf, void *size_out, __u8 direction)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct http_tls_call call = {
		.ssl = (__u64)ssl, .buf = (__u64)buf, .size_out = (__u64)size_out, .enter_ns = bpf_ktime_get_ns(),
		.direction = direction,
	};

	if (bpf_map_update_elem(&http_tls_calls, &id, &call, BPF_ANY))
		count(HTTP_TLS_CALLS_FULL);
	return 0;
}

/* BPF_KPROBE/BPF_KRETPROBE only unpack pt_regs: they serve uprobes as well. */

SEC("uprobe")
int BPF_KPROBE(http_tls_write_enter, void *ssl, const void *buf)
{
	return enter(ssl, buf, 0, HTTP_TLS_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(http_tls_write_ex_enter, void *ssl, const void *buf, __u64 num, void *written)
{
	return enter(ssl, buf, written, HTTP_TLS_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(http_tls_read_enter, void *ssl, void *buf)
{
	return enter(ssl, buf, 0, HTTP_TLS_READ);
}

SEC("uprobe")
int BPF_KPROBE(http_tls_read_ex_enter, void *ssl, void *buf, __u64 num, void *readbytes)
{
	return enter(ssl, buf, readbytes, HTTP_TLS_READ);
}

/* The first socket a thread sends or receives on inside an SSL call is the connection's. */
static __always_inline void saw_socket(struct sock *sk)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct http_tls_call *call = bpf_map_lookup_elem(&http_tls_calls, &id);

	if (call && !call->sk)
		call->sk = (__u64)sk;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(http_tls_sock_send, struct sock *sk, int ret, int flags)
{
	saw_socket(sk);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(http_tls_sock_recv, struct sock *sk, int ret, int flags)
{
	saw_socket(sk);
	return 0;
}

/* Addresses of the socket; family 0 when it is not an IP socket. */
static __always_inline void resolve_socket(struct sock *sk, struct http_tls_socket *out)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	out->fd = -1;
	out->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	out->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		__be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(out->local_addr, &local, sizeof(local));
		__builtin_memcpy(out->remote_addr, &remote, sizeof(remote));
		out->family = AF_INET;
	} else if (family == AF_INET6) {
		struct in6_addr local = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
		struct in6_addr remote = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);

		__builtin_memcpy(out->local_addr, &local, sizeof(local));
		__builtin_memcpy(out->remote_addr, &remote, sizeof(remote));
		out->family = AF_INET6;
	}
}

SEC("uretprobe")
int BPF_KRETPROBE(http_tls_return, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct http_tls_call *call = bpf_map_lookup_elem(&http_tls_calls, &id);

	if (!call)
		return 0;
	struct http_tls_call saved = *call;
	bpf_map_delete_elem(&http_tls_calls, &id);

	__u64 length = 0;
	if (saved.size_out) {
		/* SSL_read_ex/SSL_write_ex return 1, ssl_read_internal/ssl_write_internal a positive value, on success. */
		if (ret <= 0 || bpf_probe_read_user(&length, sizeof(length), (void *)saved.size_out))
			return 0;
	} else if (ret > 0) {
		length = ret;
	}
	if (length == 0)
		return 0;

	struct http_tls_socket_key key = { .ssl = saved.ssl, .tgid = id >> 32 };
	struct http_tls_event *event = bpf_ringbuf_reserve(&http_tls_events, sizeof(*event), 0);
	if (!event) {
		count(HTTP_TLS_RINGBUF_FULL);
		return 0;
	}
	__builtin_memset(&event->socket, 0, sizeof(event->socket));
	if (saved.sk) {
		resolve_socket((struct sock *)saved.sk, &event->socket);
		bpf_map_update_elem(&http_tls_sockets, &key, &event->socket, BPF_ANY);
	} else {
		struct http_tls_socket *known = bpf_map_lookup_elem(&http_tls_sockets, &key);
		if (known)
			event->socket = *known;
		else
			event->socket.fd = -1;
	}
	__u32 captured = length > HTTP_TLS_MAX_DATA ? HTTP_TLS_MAX_DATA : length;
	if (bpf_probe_read_user(event->data, captured, (void *)saved.buf))
		captured = 0;
	event->timestamp_ns = saved.direction == HTTP_TLS_WRITE ? saved.enter_ns : bpf_ktime_get_ns();
	event->ssl = saved.ssl;
	event->tgid = id >> 32;
	event->tid = (__u32)id;
	event->length = length > 0xffffffff ? 0xffffffff : length;
	event->captured = captured;
	event->direction = saved.direction;
	__builtin_memset(event->_pad, 0, sizeof(event->_pad));
	bpf_ringbuf_submit(event, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(http_tls_free, void *ssl)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct http_tls_socket_key key = { .ssl = (__u64)ssl, .tgid = id >> 32 };

	bpf_map_delete_elem(&http_tls_sockets, &key);
	struct http_tls_event *event = bpf_ringbuf_reserve(&http_tls_events, sizeof(*event), 0);
	if (!event) {
		count(HTTP_TLS_RINGBUF_FULL);
		return 0;
	}
	__builtin_memset(event, 0, offsetof(struct http_tls_event, data));
	event->timestamp_ns = bpf_ktime_get_ns();
	event->ssl = (__u64)ssl;
	event->tgid = id >> 32;
	event->tid = (__u32)id;
	event->direction = HTTP_TLS_FREE;
	event->socket.fd = -1;
	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
