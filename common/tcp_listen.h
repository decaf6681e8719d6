/*
 * tcp_listen.h - a listening TCP socket on "HOST:PORT" (IPv4; port 0 picks one), for the
 * HTTP servers of the gateway and the console: bound before a daemon confines itself, served
 * by libmicrohttpd afterwards (MHD_OPTION_LISTEN_SOCKET).
 */
#ifndef CMK_TCP_LISTEN_H
#define CMK_TCP_LISTEN_H

#include <stddef.h>

#include "err.h"

/* cmk_tcp_listen - socket, bind and listen on addr ("127.0.0.1:0"); the bound "host:port"
 * goes to bound. `param` names the config parameter in errors ("gateway.http"). Returns the
 * descriptor (close-on-exec) or a negative cmk_err code. */
int cmk_tcp_listen(const char *addr, const char *param, int backlog, char *bound, size_t n, cmk_err *err);

#endif
