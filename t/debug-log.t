#!/usr/bin/perl
# debug.log-request-header / -response-header / -request-handling /
# -file-not-found write lighttpd's lines to the error log (checked against
# lighttpd 1.4.69's output for the same requests).

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
done_testing();
