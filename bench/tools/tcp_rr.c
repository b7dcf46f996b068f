/* 1-byte TCP request/response rate: the worst case for per-syscall hooks (two sends and two receives per
 * transaction). `tcp_rr server ADDR PORT` echoes; `tcp_rr client ADDR PORT SECONDS` prints transactions/s. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int resolve(const char *host, const char *port, struct addrinfo **out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	int err = getaddrinfo(host, port, &hints, out);
	if (err)
		fprintf(stderr, "tcp_rr: %s\n", gai_strerror(err));
	return err;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct addrinfo *ai;
	int one = 1;
	char byte = 'x';
	if (argc < 4 || resolve(argv[2], argv[3], &ai))
		return 2;
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (strcmp(argv[1], "server") == 0) {
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
			perror("tcp_rr: bind/listen");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			int conn = accept(fd, NULL, NULL);
			setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			while (recv(conn, &byte, 1, 0) == 1 && send(conn, &byte, 1, 0) == 1)
				;
			close(conn);
		}
	}
	if (argc < 5 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("tcp_rr: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	double seconds = atof(argv[4]), start = now(), end = start + seconds;
	long transactions = 0;
	while ((transactions & 1023) || now() < end) {
		if (send(fd, &byte, 1, 0) != 1 || recv(fd, &byte, 1, 0) != 1) {
			perror("tcp_rr: transaction");
			return 1;
		}
		transactions++;
	}
	printf("%.0f\n", transactions / (now() - start));
	return 0;
}
