/* Structs the http TLS uprobes share with user space (src/receivers/http/tls-event.ts mirrors them). */
#ifndef HTTP_TLS_H
#define HTTP_TLS_H

/* Plaintext bytes copied per SSL_read/SSL_write call: start lines and usual headers; the rest is reported as a gap. */
#define HTTP_TLS_MAX_DATA 1024

enum http_tls_direction {
	HTTP_TLS_WRITE = 0, /* the process sent these bytes (SSL_write, SSL_write_ex) */
	HTTP_TLS_READ = 1,  /* the process received them (SSL_read, SSL_read_ex) */
	HTTP_TLS_FREE = 2,  /* SSL_free: the connection id ends here (no data) */
};

enum http_tls_counter {
	HTTP_TLS_RINGBUF_FULL = 0, /* an event lost: the ring buffer was full */
	HTTP_TLS_CALLS_FULL = 1,   /* a call not followed: too many threads inside SSL_read/SSL_write at once */
	HTTP_TLS_COUNTERS = 2,
};

/* A call in progress, by thread (pid_tgid), from the entry probe to the return probe. */
struct http_tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 size_out; /* the _ex variants' size_t *written / *readbytes; 0 for SSL_read/SSL_write */
	__u64 enter_ns; /* bpf_ktime_get_ns() at entry: when a write's bytes were handed to OpenSSL */
	__u64 sk;       /* the struct sock the call sent or received on; 0 when it moved no data on a socket */
	__u8 direction;
	__u8 _pad[7];
};

/* The socket behind an SSL*, learnt from socket I/O made inside one of its calls. */
struct http_tls_socket_key {
	__u64 ssl;
	__u32 tgid;
	__u32 _pad;
};

struct http_tls_socket {
	__u8 local_addr[16]; /* IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	__s32 fd;         /* always -1: the socket is known by its struct sock, not by a descriptor */
	__u16 local_port; /* host order */
	__u16 remote_port;
	__u8 family; /* AF_INET / AF_INET6; 0 when the fd was not an IP socket */
	__u8 _pad[7];
};

/* A value of http_tls_sockets (kernel only): the socket and the struct sock it was read from. */
struct http_tls_known_socket {
	__u64 sk;
	struct http_tls_socket socket;
};

struct http_tls_event {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC: a write's entry (bytes handed over), a read's return (bytes available) */
	__u64 ssl;          /* the SSL* address: with tgid, the connection id */
	__u32 tgid;
	__u32 tid;
	__u32 length;   /* bytes the call transferred */
	__u32 captured; /* bytes of data[] filled, and sent: min(length, HTTP_TLS_MAX_DATA) */
	__u8 direction; /* enum http_tls_direction */
	__u8 _pad[7];
	struct http_tls_socket socket;
	__u8 data[HTTP_TLS_MAX_DATA];
};

#endif
