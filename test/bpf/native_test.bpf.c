// SPDX-License-Identifier: GPL-2.0
/* Exercises the native addon (the tests in test/native): maps of each kind, a ring buffer, a tunable, a tracepoint the
 * test triggers with getppid() (Node's process.ppid), and a program the verifier rejects (left unloaded with
 * BpfObjectOptions.disabledPrograms, except in the test that wants the verifier log). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct native_test_event {
	__u64 sequence;
	__u32 tag;
	__u32 pid;
};

const volatile __u32 target_pid = 0;
const volatile __u32 tag = 0;
/* 0, or BPF_RB_NO_WAKEUP for the reader that polls (RingReader's pollIntervalMs). */
const volatile __u64 submit_flags = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} percpu_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 sequence = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 key = tag;
	__u32 zero = 0;

	if (pid != target_pid)
		return 0;
	__u64 *value = bpf_map_lookup_elem(&counts, &key);
	if (value) {
		__sync_fetch_and_add(value, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	}
	__u32 *per_cpu = bpf_map_lookup_elem(&percpu_counts, &zero);
	if (per_cpu)
		*per_cpu += 1;
	struct native_test_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0;
	event->sequence = __sync_fetch_and_add(&sequence, 1);
	event->tag = tag;
	event->pid = pid;
	bpf_ringbuf_submit(event, submit_flags);
	return 0;
}

/* Reads past the end of a map value: compiles, but the verifier must reject it. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int rejected_by_verifier(void *ctx)
{
	__u32 key = 0;
	__u32 *value = bpf_map_lookup_elem(&percpu_counts, &key);

	if (value)
		return value[64];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
