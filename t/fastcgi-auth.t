#!/usr/bin/perl
# FastCGI authorizer mode (fastcgi.md section 4): an allowing authorizer
# lets the request run on (static file or responder) with its Variable-*
# in the responder's environment; a denying one's answer goes to the client
# minus the headers before Status:; the authorizer gets no CONTENT_LENGTH,
# SCRIPT_NAME or PATH_INFO and no body (the body stays for the responder).
# Expected values are lighttpd 1.4.69's with the same responder.

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use LightyTest qw(responder_socket);

my $sock = responder_socket();
my $tmp = tempdir(CLEANUP => 1);

mkdir "$tmp/authroot";
mkdir "$tmp/authroot/dr";
for (['dr/page.txt', "under the authorizer's docroot\n"], ['dr/resp', "a file named as the key\n"]) {
    open(my $fh, '>', "$tmp/authroot/$_->[0]") or die;
    print $fh $_->[1];
    close $fh;
}
my $tf = LightyTest->new(config => 'fastcgi-auth.conf',
                         env => { FCGI_SOCK => $sock, AUTH_DOCROOT => "$tmp/authroot" });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
sub t_ok { my ($t, $name) = @_; ok($tf->handle_http($t) == 0, $name) }

my $index = LightyTest::slurp_file(LightyTest::srcdir() . '/docroot/index.html');
t_ok({ REQUEST => ["GET /index.html?auth-ok HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $index }] },
     'authorizer allows: the static file is served (the authorizer\'s body is not)');
t_ok({ REQUEST => ["GET /index.html?auth-fail HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
     'authorizer denies: its status goes to the client');
t_ok({ REQUEST => ["GET /index.html?auth-hdr HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 403, 'X-After' => '1', '-X-Before' => '', 'HTTP-Content' => 'denied' }] },
     'a denial keeps the headers after Status: and its body, not the ones before');
t_ok({ REQUEST => ["GET /resp?auth-var HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'LighttpdTestContent' }] },
     'Variable-X-LIGHTTPD-FCGI-AUTH reaches the responder as X_LIGHTTPD_FCGI_AUTH');
t_ok({ REQUEST => ["GET /resp?ahdrs=Variable-lower%3A%20l%7CVariable-LOWER%3A%20m%7CVariable-x%3A%201 HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => qr/^LOWER=l, m\nX=1\n/m }] },
     'a Variable-* name given again (any case): one variable, the values joined by ", "');
SKIP: {
    # 1.4.69 matches the authorizer's suffix key against the URL path at
    # the URL stage, where the responder key takes the request first: the
    # authorizer is never asked (doc/compat.md).
    skip 'lighttpd 1.4.69 runs the responder without the authorizer here', 2
        if LightyTest::lighttpd_exe() =~ m{^/usr/s?bin/};
    t_ok({ REQUEST => ["GET /sub/index.html/x?auth-fail HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 403 }] },
         'a suffix authorizer is asked for its file with PATH_INFO behind it, and denies');
    t_ok({ REQUEST => ["GET /sub/index.html/x?auth-var HTTP/1.0"],
           RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'LighttpdTestContent' }] },
         '... or allows, and the responder runs with its variables');
}
SKIP: {
    # 1.4.69 sends the body to the authorizer and the request hangs
    # (lighttpd #3272, fixed in 1.4.77; doc/compat.md).
    skip 'lighttpd 1.4.69 hangs here (#3272)', 1 if LightyTest::lighttpd_exe() =~ m{^/usr/s?bin/};
    t_ok({ REQUEST => ["POST /resp?echo-stdin HTTP/1.0\nContent-Length: 5\n\nhello"],
           RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'hello' }] },
         'a request body skips the authorizer and reaches the responder');
}
t_ok({ REQUEST => ["GET /missing.html?auth-ok HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'allowed, then the static handler answers 404 for a missing file');

my $x = $tf->http_exchange("GET /resp/x/y?auth-dump HTTP/1.0\r\n\r\n");
my $r = $x->{responses}[0];
my $env = $r ? $r->body : '';
is($r ? $r->code : 0, 403, 'auth-dump: the authorizer\'s environment comes back in a 403');
like($env, qr/^QUERY_STRING=auth-dump$/m, 'the authorizer gets QUERY_STRING');
like($env, qr/^REQUEST_URI=\/resp\/x\/y\?auth-dump$/m, 'and REQUEST_URI');
unlike($env, qr/^(?:CONTENT_LENGTH|SCRIPT_NAME|PATH_INFO|PATH_TRANSLATED)=/m,
       'no CONTENT_LENGTH, SCRIPT_NAME, PATH_INFO or PATH_TRANSLATED for an authorizer');

# Where the authorizer key is looked for (1.4.69, found side by side by
# scripts/compare-backend-random).
t_ok({ REQUEST => ["GET /cl/resp?auth-ok HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'authorizer with check-local, no file: 404, the responder key behind it does not run');
t_ok({ REQUEST => ["GET /cl/resp?auth-fail HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'the same when the authorizer would deny: nothing runs unauthorized');
t_ok({ REQUEST => ["GET /dr/page.txt?auth-ok HTTP/1.0"],
       RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "under the authorizer's docroot\n" }] },
     "authorizer docroot: an allowed static request is served from it");
t_ok({ REQUEST => ["GET /dr/resp/x?auth-ok HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123' }] },
     'authorizer docroot: a responder key takes a file that exists there (PATH_INFO after it)');
t_ok({ REQUEST => ["GET /dr/respx?auth-ok HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] },
     'authorizer docroot: no file there, so the check-local "disable" responder does not run (404)');
$tf->stop_proc;
done_testing();
