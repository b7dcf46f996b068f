/* HTTP/1.1 over TLS in one process, without sockets: a client and a server SSL joined by memory BIOs exchange a
 * wrk-sized request and an nginx-sized response, so each exchange is exactly four libssl calls (SSL_write,
 * SSL_read, SSL_write, SSL_read) and no socket I/O. Run with and without uprobes on libssl to price a probed call.
 *   tls_loop CERT KEY SECONDS   → prints `exchanges N ns_per_exchange X` */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char request[] = "GET /ok HTTP/1.1\r\nHost: 198.18.2.2:18443\r\n\r\n";
static const char response[] = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 23 Nov 2025 15:23:15 GMT\r\n"
			       "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "tls_loop: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* Moves what one side wrote into the other side's read BIO. */
static void pump(BIO *from, BIO *to)
{
	char buffer[16384];
	int n;

	while ((n = BIO_read(from, buffer, sizeof(buffer))) > 0)
		if (BIO_write(to, buffer, n) != n)
			fail("BIO_write");
}

struct end {
	SSL *ssl;
	BIO *in;  /* what the peer sent, for this end to read */
	BIO *out; /* what this end wrote, for the peer */
};

static void open_end(struct end *e, SSL_CTX *ctx, int server)
{
	e->ssl = SSL_new(ctx);
	e->in = BIO_new(BIO_s_mem());
	e->out = BIO_new(BIO_s_mem());
	if (!e->ssl || !e->in || !e->out)
		fail("SSL_new");
	SSL_set_bio(e->ssl, e->in, e->out);
	if (server)
		SSL_set_accept_state(e->ssl);
	else
		SSL_set_connect_state(e->ssl);
}

static void transfer(struct end *writer, struct end *reader, const char *data, int length)
{
	char buffer[4096];

	if (SSL_write(writer->ssl, data, length) != length)
		fail("SSL_write");
	pump(writer->out, reader->in);
	if (SSL_read(reader->ssl, buffer, sizeof(buffer)) != length)
		fail("SSL_read");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tls_loop CERT KEY SECONDS\n");
		return 2;
	}
	SSL_CTX *server_ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX *client_ctx = SSL_CTX_new(TLS_client_method());
	if (!server_ctx || !client_ctx)
		fail("SSL_CTX_new");
	if (SSL_CTX_use_certificate_file(server_ctx, argv[1], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(server_ctx, argv[2], SSL_FILETYPE_PEM) != 1)
		fail("certificate");
	struct end client, server;
	open_end(&client, client_ctx, 0);
	open_end(&server, server_ctx, 1);
	for (int round = 0; round < 20 && !(SSL_is_init_finished(client.ssl) && SSL_is_init_finished(server.ssl)); round++) {
		SSL_do_handshake(client.ssl);
		pump(client.out, server.in);
		SSL_do_handshake(server.ssl);
		pump(server.out, client.in);
	}
	if (!SSL_is_init_finished(client.ssl) || !SSL_is_init_finished(server.ssl))
		fail("handshake");
	/* TLS 1.3 session tickets arrive with the first read: one exchange before timing. */
	transfer(&client, &server, request, sizeof(request) - 1);
	transfer(&server, &client, response, sizeof(response) - 1);

	double seconds = atof(argv[3]);
	double start = now(), elapsed = 0;
	long exchanges = 0;
	while (elapsed < seconds) {
		for (int i = 0; i < 1000; i++) {
			transfer(&client, &server, request, sizeof(request) - 1);
			transfer(&server, &client, response, sizeof(response) - 1);
		}
		exchanges += 1000;
		elapsed = now() - start;
	}
	printf("exchanges %ld ns_per_exchange %.0f\n", exchanges, elapsed * 1e9 / exchanges);
	return 0;
}
