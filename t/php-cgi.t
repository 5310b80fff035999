#!/usr/bin/perl
# mod_fastcgi starting php-cgi itself (bin-path): the listening socket is
# handed to php-cgi as fd 0 (socket-N per proc), PHP runs the script, and
# the children are gone after the server stops. Same results as lighttpd
# 1.4.69 with the same config.

use strict;
use warnings;
use Test::More;
use LightyTest;

my $php = '/usr/bin/php-cgi';
plan skip_all => 'php-cgi is not installed (.ci/run installs it)' unless -x $php;

my $tf = LightyTest->new(config => 'php-cgi.conf', env => { PHP_CGI => $php });
ok($tf->start_proc == 0, 'server starts and spawns php-cgi') or do { done_testing(); exit };
my $sock = $tf->tmpdir . '/php.socket-0';
ok(-S $sock, 'proc 0 listens on socket-0');

my $want = 'hello from php cgi-fcgi path_info=/x body=q';
ok($tf->handle_http({ REQUEST => ["POST /hello.php/x HTTP/1.0\nContent-Length: 1\n\nq"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'X-Php' => 'yes', 'Content-Length' => length($want), 'HTTP-Content' => $want }] }) == 0,
   'php-cgi runs the script with PATH_INFO and the body');
ok($tf->handle_http({ REQUEST => ["GET /hello.php HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'hello from php cgi-fcgi path_info=- body=' }] }) == 0,
   'a second request');

# server.error-handler-404 / server.error-handler naming a PHP script: the
# handler runs through FastCGI (lighttpd starts the request over with the
# handler's URL), never sent as a file. REQUEST_URI stays the client's,
# REDIRECT_URI is the handler's, REDIRECT_STATUS the status it replaces.
my $front = sub { my ($uri, $eh, $method, $body) = @_;
    my $ru = $eh ? '/front.php?eh=1' : '/front.php';
    "uri=$uri script=/front.php rs=404 ru=$ru method=$method qs=" . ($eh ? 'eh=1' : '') . " body=$body" };
$tf->http_ok({ REQUEST => ["GET /pretty/url?q=1 HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $front->('/pretty/url?q=1', 0, 'GET', '') }] },
   'error-handler-404: a PHP front controller runs for a missing file');
# -404 keeps the method and the body, and so the connection
$tf->http_ok({ REQUEST => ["POST /pretty HTTP/1.1\nHost: x\nContent-Length: 3\n\nabcGET /p2 HTTP/1.1\nHost: x\nConnection: close\n"],
    RESPONSE => [{ 'HTTP-Status' => 200, '-Connection' => '', 'HTTP-Content' => $front->('/pretty', 0, 'POST', 'abc') },
                 { 'HTTP-Status' => 200, 'HTTP-Content' => $front->('/p2', 0, 'GET', '') }] },
   'error-handler-404: POST body passed on, connection kept');
$tf->http_ok({ REQUEST => ["GET /all/x HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $front->('/all/x', 1, 'GET', '') }] },
   'error-handler: the handler\'s query, its own status');
$tf->http_ok({ REQUEST => ["HEAD /all/x HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'Content-Length' => length($front->('/all/x', 1, 'GET', '')), '-HTTP-Content' => '' }] },
   'error-handler for a HEAD: PHP runs as GET, the reply has no body');
$tf->http_ok({ REQUEST => ["POST /all/x HTTP/1.1\nHost: x\nContent-Length: 3\n\nabc"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'Connection' => 'close', 'HTTP-Content' => $front->('/all/x', 1, 'GET', '') }] },
   'error-handler: as GET without the body, which closes the connection');
$tf->http_ok({ REQUEST => ["GET /all/x HTTP/1.1\nHost: x\nRange: bytes=0-2\nConnection: close"],
    RESPONSE => [{ 'HTTP-Status' => 206, 'Content-Range' => qr{^bytes 0-2/}, 'HTTP-Content' => 'uri' }] },
   'error-handler: Range applies to the handler\'s reply');
$tf->stop_proc;
select(undef, undef, undef, 0.3);
ok(!-e $sock, 'the socket is removed at shutdown');
done_testing();
