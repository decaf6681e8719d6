/*
 * console.h - the cmk-console process: the browser console of the cluster. It reads the cluster
 * through the front door as the `console` identity (role console: read-only calls, and a peer
 * so that the supervisor sees it ready and restarts it), and serves the page and its JSON on
 * console.listen (loopback by default) to whoever has the token (<run>/console.token, 0600).
 *
 * Files in the run dir: console.token (the token, kept across restarts), console.http (the
 * bound "host:port"; a restart binds the same port again when console.listen's port is 0).
 */
#ifndef CMK_CONSOLE_H
#define CMK_CONSOLE_H

#include <stddef.h>

#include "err.h"
#include "server.h"

typedef struct console console;

/* console_start - token, poller, HTTP server, then the peer (ready once it serves) */
int console_start(cmk_server *srv, console **out, cmk_err *err);

/* console_stop - stop in reverse order (NULL is fine) and null the caller's pointer */
void console_stop(console **self_p);

/* console_listen_address - the address to listen on: console.listen, or when its port is 0
 * the port of a previous run kept in the file `kept` (<run>/console.http) on the same host */
void console_listen_address(const char *listen, const char *kept, char *out, size_t cap);

#endif
