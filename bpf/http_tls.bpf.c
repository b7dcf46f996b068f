// SPDX-License-Identifier: GPL-2.0
/* HTTPS through OpenSSL: uprobes on libssl's read and write functions (ssl_read_internal / ssl_write_internal
 * where user space found them, else SSL_read, SSL_write and their _ex variants) copy the start of each call's
 * plaintext into a ring buffer, where src/receivers/http reads it with the same HTTP/1.x parser as captured
 * packets. The entry probe remembers the buffer per thread; the return probe knows how many bytes moved and sends
 * at most HTTP_TLS_MAX_DATA of them, without waking the reader (it polls). The socket is learnt from the socket I/O
 * the call makes (tp_btf on sock_send_length / sock_recv_length, which fire only for socket I/O and hand over the
 * struct sock itself, so no program runs on the node's other read/write syscalls; they return at once unless the
 * thread is inside an SSL call) and cached per SSL*, since a call served from OpenSSL's own buffer makes none.
 * Programs that statically link their TLS library (Go, Node, Java) are not seen. */
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

/* The thread inside an SSL call on each CPU (its pid_tgid; 0 for none). The socket tracepoints fire for every
 * socket send and receive on the node: this lets them skip the hash lookup for all other threads. A thread that
 * migrates or is preempted by another SSL caller inside its call is missed, and its connection's socket comes from
 * http_tls_sockets (learnt in an earlier call) instead. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} http_tls_current SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct http_tls_socket_key);
	__type(value, struct http_tls_known_socket);
} http_tls_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} http_tls_events SEC(".maps");

/* An event is built here, then sent at its filled size. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_tls_event);
} http_tls_scratch SEC(".maps");

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

	__u32 zero = 0;
	__u64 *current;

	if (bpf_map_update_elem(&http_tls_calls, &id, &call, BPF_ANY)) {
		count(HTTP_TLS_CALLS_FULL);
		return 0;
	}
	current = bpf_map_lookup_elem(&http_tls_current, &zero);
	if (current)
		*current = id;
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
	__u32 zero = 0;
	__u64 *current = bpf_map_lookup_elem(&http_tls_current, &zero);

	if (!current || *current != id)
		return;
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

/* Sends the event's header and its first `captured` bytes of data: most calls move far less than
 * HTTP_TLS_MAX_DATA, and the ring, the reader's copy and JS handle what was sent, not the struct's size. Without a
 * wake-up: user space reads the ring every few ms (a wake-up per event cost the probed call more than the event). */
static __always_inline void send(struct http_tls_event *event, __u32 captured)
{
	__u64 size = offsetof(struct http_tls_event, data) + captured;

	if (size > sizeof(*event))
		size = sizeof(*event);
	if (bpf_ringbuf_output(&http_tls_events, event, size, BPF_RB_NO_WAKEUP))
		count(HTTP_TLS_RINGBUF_FULL);
}

static __always_inline struct http_tls_event *scratch_event(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&http_tls_scratch, &zero);
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
	__u32 zero = 0;
	__u64 *current = bpf_map_lookup_elem(&http_tls_current, &zero);
	if (current && *current == id)
		*current = 0;

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

	struct http_tls_event *event = scratch_event();
	if (!event)
		return 0;
	struct http_tls_socket_key key = { .ssl = saved.ssl, .tgid = id >> 32 };
	struct http_tls_known_socket *known = bpf_map_lookup_elem(&http_tls_sockets, &key);
	if (known && (!saved.sk || known->sk == saved.sk)) {
		event->socket = known->socket;
	} else if (saved.sk) {
		struct http_tls_known_socket learnt = { .sk = saved.sk };

		resolve_socket((struct sock *)saved.sk, &learnt.socket);
		bpf_map_update_elem(&http_tls_sockets, &key, &learnt, BPF_ANY);
		event->socket = learnt.socket;
	} else {
		__builtin_memset(&event->socket, 0, sizeof(event->socket));
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
	send(event, captured);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(http_tls_free, void *ssl)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct http_tls_socket_key key = { .ssl = (__u64)ssl, .tgid = id >> 32 };

	bpf_map_delete_elem(&http_tls_sockets, &key);
	struct http_tls_event *event = scratch_event();
	if (!event)
		return 0;
	__builtin_memset(event, 0, offsetof(struct http_tls_event, data));
	event->timestamp_ns = bpf_ktime_get_ns();
	event->ssl = (__u64)ssl;
	event->tgid = id >> 32;
	event->tid = (__u32)id;
	event->direction = HTTP_TLS_FREE;
	event->socket.fd = -1;
	send(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
