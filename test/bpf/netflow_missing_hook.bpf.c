// SPDX-License-Identifier: GPL-2.0
/* A netflow object with a tp_btf hook no kernel has, for the receiver's message when a hook is missing
 * (test/receivers/netflow/hooks.test.ts). The maps, UDP and sock_ops programs are netflow's, so the receiver opens it
 * as usual. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "netflow_common.h"
#include "netflow_udp.h"

static __always_inline __u64 sockops_id(struct bpf_sock_ops *skops, bool born)
{
	return bpf_get_socket_cookie(skops);
}

static __always_inline void sockops_forget(struct bpf_sock_ops *skops)
{
}

#include "netflow_sockops.h"

SEC("tp_btf/netlens_no_such_hook")
int BPF_PROG(netflow_missing_hook)
{
	return 0;
}
