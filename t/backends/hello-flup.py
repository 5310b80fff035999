#!/usr/bin/env python3
# The seed's "Python FastCGI on lighty with flup" hello app, made to echo a
# few WSGI environ values, for t/flup.t.
#
#   hello-flup.py SOCKET-PATH   external server on a unix socket
#   hello-flup.py HOST:PORT     external server on TCP
#   hello-flup.py               FastCGI socket on fd 0 (lighttpd "bin-path")
#
# Paths ending in /notfound get a 404 from the app; a request body is echoed;
# greeting= is HELLO_GREETING from the process environment.
import os
import sys
import threading

count = 0
lock = threading.Lock()


def myapp(environ, start_response):
    global count
    with lock:
        count += 1
        n = count
    try:
        length = int(environ.get('CONTENT_LENGTH') or 0)
    except ValueError:
        length = 0
    body = environ['wsgi.input'].read(length) if length > 0 else b''
    status = '404 Not Found' if environ.get('PATH_INFO', '').endswith('/notfound') else '200 OK'
    start_response(status, [('Content-Type', 'text/plain'), ('X-Backend', 'flup')])
    lines = ['Hello World! #%d pid=%d' % (n, os.getpid())]
    for k in ('SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_METHOD'):
        lines.append('%s=%s' % (k, environ.get(k, '-')))
    # from the process environment (bin-environment), not from the request
    lines.append('greeting=%s' % os.environ.get('HELLO_GREETING', '-'))
    return [('\n'.join(lines) + '\nbody=').encode() + body + b'\n']


if __name__ == '__main__':
    from flup.server.fcgi import WSGIServer
    bind = None
    if len(sys.argv) > 1:
        arg = sys.argv[1]
        if not arg.startswith('/') and ':' in arg:
            host, port = arg.rsplit(':', 1)
            bind = (host, int(port))
        else:
            bind = arg
    WSGIServer(myapp, bindAddress=bind).run()
