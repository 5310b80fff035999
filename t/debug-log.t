#!/usr/bin/perl
# debug.log-request-header / -response-header / -request-handling /
# -file-not-found / -condition-handling write lighttpd's lines to the error
# log (checked against lighttpd 1.4.69's output for the same requests).

use strict;
use warnings;
use Test::More;
use LightyTest qw(strip_log_prefix responder_socket);

my $sock = responder_socket();
my $tf = LightyTest->new(config => 'debug-log.conf');
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
ok($tf->handle_http({ REQUEST => ["GET /hello.txt HTTP/1.0\nX-Test: yes"], RESPONSE => [{ 'HTTP-Status' => 200 }] }) == 0,
   'GET /hello.txt');
ok($tf->handle_http({ REQUEST => ["GET /nope.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'GET /nope.txt');
# An error handler answered by a directory listing: the listing is made
# (and traced) once, Range or not.
{
    my $before = () = strip_log_prefix($tf->server_log) =~ /^-- handling the request as Dir-Listing$/mg;
    ok($tf->handle_http({ REQUEST => ["GET /lost/x HTTP/1.1\nHost: a\nRange: bytes=0-4\nConnection: close"],
        RESPONSE => [{ 'HTTP-Status' => 206, 'Content-Range' => qr{^bytes 0-4/\d+$} }] }) == 0,
       'an error handler\'s listing answers the Range');
    select(undef, undef, undef, 0.2);
    my $after = () = strip_log_prefix($tf->server_log) =~ /^-- handling the request as Dir-Listing$/mg;
    is($after - $before, 1, '... and the listing is made once');
}
# A head refused while it is parsed: with debug.log-request-header (or
# -request-handling) set globally, why and the head, bytes escaped.
my $x = $tf->http_exchange("GET / HTTP/1.1\r\nHost: x\r\nX\xc3: v\r\n\r\n");
is($x->{responses}[0] && $x->{responses}[0]->code, 400, 'a header name with a byte past ASCII is 400');
# A control byte before the request line: refused as it is read.
$x = $tf->http_exchange("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
is($x->{responses}[0] && $x->{responses}[0]->code, 400, 'a blank line before the first request line is 400');
select(undef, undef, undef, 0.2);
my $log = strip_log_prefix($tf->server_log);
like($log, qr/^fd:\d+ rqst: X\\xc3: v\nfd:\d+ rqst: \ninvalid character in header key -> 400 \('\\xc3'\)\nrqst: GET \/ HTTP\/1\.1\nrqst: Host: x\nrqst: X\\xc3: v\nrqst: \n/m,
     'the refused head: the rqst lines, why (the byte named), then its lines again');
like($log, qr/^invalid request-line -> sending Status 400 \(127\.0\.0\.1\)$/m,
     'a refused request line names the client');
like($log, qr/^fd:\d+ resp: HTTP\/1\.1 400 Bad Request$/m, 'the answer to a refused head is logged too');
like($log, qr/^fd:\d+ rqst: GET \/hello\.txt HTTP\/1\.0$/m, 'request line logged');
like($log, qr/^fd:\d+ rqst: X-Test: yes$/m, 'request header logged');
like($log, qr/^fd:\d+ rqst: $/m, 'blank line ending the request head logged');
like($log, qr/^fd:\d+ resp: HTTP\/1\.0 200 OK$/m, 'status line logged');
like($log, qr/^fd:\d+ resp: Content-Type: text\/plain$/m, 'response header logged');
like($log, qr/^-- parsed Request-URI\nRequest-URI     : \/hello\.txt\nURI-scheme      : http\n/m,
     'request handling: parsed URI block');
like($log, qr/^-- logical -> physical\nDoc-Root     : .*\/docroot\n/m, 'request handling: physical block');
like($log, qr/^-- : No such file or directory\nPath         : .*\/docroot\/nope\.txt\nURI          : \/nope\.txt$/m,
     'file not found logged');
$tf->stop_proc;

# debug.log-request-handling for FastCGI: a key that takes the request at
# the URL stage says so, then the physical path of SCRIPT_NAME; a
# check-local key after the PATH_INFO split; a directory goes to
# mod_indexfile; mod_access (after mod_fastcgi) refuses after the claim.
$tf = LightyTest->new(config => 'debug-fastcgi.conf', env => { FCGI_SOCK => $sock });
ok($tf->start_proc == 0, 'server starts (FastCGI request handling)') or do { done_testing(); exit };
for (["GET /fx/a/b?dump-env HTTP/1.0", 200], ["GET /t.fcgi/pi?dump-env HTTP/1.0", 200],
     ["GET /sub/ HTTP/1.0", 200], ["GET /fx/a.inc HTTP/1.0", 403]) {
    ok($tf->handle_http({ REQUEST => [$_->[0]], RESPONSE => [{ 'HTTP-Status' => $_->[1] }] }) == 0, $_->[0]);
}
select(undef, undef, undef, 0.2);
$log = strip_log_prefix($tf->server_log);
like($log, qr{^URI-query       : dump-env\nhandling the request using fastcgi\n-- logical -> physical\nDoc-Root     : .*/docroot\nBasedir      : .*/docroot\nRel-Path     : /fx/a\nPath         : .*/docroot/fx/a\n}m,
     'URL stage: the claim, then the physical path of SCRIPT_NAME');
like($log, qr{^Rel-Path     : /t\.fcgi/pi\nPath         : .*/docroot/t\.fcgi/pi\n-- handling subrequest\nPath         : .*/docroot/t\.fcgi\nURI          : /t\.fcgi\nPathinfo     : /pi\nhandling the request using fastcgi$}m,
     'check-local: the file and PATH_INFO, then the claim');
like($log, qr{^-- handling subrequest\nPath         : .*/docroot/sub/\nURI          : /sub/\nPathinfo     : \n-- handling the request as Indexfile\nURI          : /sub/$}m,
     'a directory: the subrequest, then mod_indexfile');
like($log, qr{^handling the request using fastcgi\nurl denied as we match access_deny /fx/a\.inc$}m,
     'mod_access after mod_fastcgi refuses after the claim');
$tf->stop_proc;

# debug.log-condition-handling, switched on by the first block for /hello*:
# the blocks after it are traced, decided lazily (parent, else branch).
$tf = LightyTest->new(config => 'debug-cond.conf');
ok($tf->start_proc == 0, 'server starts (condition handling)') or do { done_testing(); exit };
ok($tf->handle_http({ REQUEST => ["GET /hello.txt?x HTTP/1.0\nHost: a.example:8080\nUser-Agent: perl/1"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'Server' => 'q' }] }) == 0, 'GET /hello.txt?x');
ok($tf->handle_http({ REQUEST => ["GET /nope?x HTTP/1.0\nUser-Agent: perl/1"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'GET /nope?x (no trace: the switch is off)');
select(undef, undef, undef, 0.2);
$log = strip_log_prefix($tf->server_log);
my $trace = <<'END';
=== start of condition block ===
$HTTP["host"] == "a.example" compare to a.example:8080
2 (uncached) result: true (cond: global / $HTTP["host"] == "a.example")
=== start of condition block ===
go prev global / $HTTP["host"] == "a.example"
2 (cached) result: true (cond: global / $HTTP["host"] == "a.example")
3 (uncached) result: skipped (cond: global / $HTTP["remoteip"] == "127.0.0.0/8")
=== start of condition block ===
go parent global / $HTTP["querystring"] == "x"
$HTTP["querystring"] == "x" compare to x
4 (uncached) result: true (cond: global / $HTTP["querystring"] == "x")
$HTTP["useragent"] =^ "perl" compare to perl/1
5 (uncached) result: true (cond: global / $HTTP["querystring"] == "x" / $HTTP["useragent"] =^ "perl")
END
my $late = <<'END';
=== start of condition block ===
$HTTP["url"] =$ ".txt" compare to /hello.txt
6 (uncached) result: true (cond: global / $HTTP["url"] =$ ".txt")
END
ok(index($log, $trace . $late) >= 0, 'the trace of 1.4.69, line for line') or diag($log);
is(() = $log =~ /=== start of condition block ===/g, 4, 'nothing traced for /nope');
ok($tf->handle_http({ REQUEST => ["GET /hello.txt/more HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 200, '-ETag' => '' }] }) == 0,
   'GET /hello.txt/more: a block holding only static-file.* options is decided on /hello.txt');
select(undef, undef, undef, 0.2);
$log = strip_log_prefix($tf->server_log);
like($log, qr/\Q$late\E\z/, '... and traced then, on that URL path');
unlike($log, qr{compare to /hello\.txt/more}, '... never on the URL path as sent');
unlike($log, qr{"/dir/" compare}, 'a block holding only dir-listing.* options is not traced for a file');
unlike($log, qr{"/hx" compare}, 'nor one holding only options of a module not loaded');
$tf->stop_proc;
done_testing();
