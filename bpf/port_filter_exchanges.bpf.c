// SPDX-License-Identifier: GPL-2.0
/* The capture filter with HTTP exchange tracking (http_exchange.bpf.h), for the http receiver's kernel_exchanges.
 * A separate object rather than a switch set at load: without CAP_PERFMON the verifier also walks the branches a
 * load-time constant makes dead (its Spectre v1 mitigation), so a switched-off tracking would still have to pass the
 * unprivileged checks, which its spilled pointers do not. The dns receiver, and http without kernel_exchanges, load
 * port_filter.bpf.o and need no CAP_PERFMON. */
#define PORT_FILTER_EXCHANGES
#include "port_filter.bpf.c"
