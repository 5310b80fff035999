#!/usr/bin/perl
# debug.log-request-header / -response-header / -request-handling /
# -file-not-found / -condition-handling write lighttpd's lines to the error
# log (checked against lighttpd 1.4.69's output for the same requests).

use strict;
use warnings;
use Test::More;
use LightyTest qw(strip_log_prefix);

my $tf = LightyTest->new(config => 'debug-log.conf');
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
ok($tf->handle_http({ REQUEST => ["GET /hello.txt HTTP/1.0\nX-Test: yes"], RESPONSE => [{ 'HTTP-Status' => 200 }] }) == 0,
   'GET /hello.txt');
ok($tf->handle_http({ REQUEST => ["GET /nope.txt HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'GET /nope.txt');
select(undef, undef, undef, 0.2);
my $log = strip_log_prefix($tf->server_log);
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
ok(index($log, $trace) >= 0, 'the trace of 1.4.69, line for line') or diag($log);
is(() = $log =~ /=== start of condition block ===/g, 3, 'nothing traced for /nope');
$tf->stop_proc;
done_testing();
