#!/usr/bin/perl
# server.feature-flags, as 1.4.69 reads them:
# - "server.errorlog-high-precision": each error-log line stamped to the
#   nanosecond ("2026-12-05 00:40:57.448529193: (server.c.1704) ...");
#   without it, to the second (every other test's lines);
# - "http10.range": Range and Accept-Ranges for HTTP/1.0 requests too (a
#   static file, a dir-listing page); without it HTTP/1.1 only
#   (t/http-core.t);
# - "server.h1-discard-backend-1xx": a backend's interim heads (a 103) are
#   not relayed to HTTP/1.1 clients; without it they are (t/fastcgi.t).

use strict;
use warnings;
use Test::More;
use LightyTest;

my $t = LightyTest->new(config => 'feature-flags.conf', env => { RESP => LightyTest::responder_exe() });
ok($t->start_proc == 0, 'server starts') or do { done_testing(); exit };

my @lines = split /\n/, $t->error_log;
ok(@lines >= 1, 'it logs its start');
my @plain = grep { !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}: \(\S+\.\d+\) / } @lines;
is("@plain", '', 'errorlog-high-precision: every line stamped to the nanosecond');

my $r = $t->http_exchange("GET /hello.txt HTTP/1.0\r\nRange: bytes=0-4\r\n\r\n")->{responses}[0];
is($r ? $r->code . ' ' . ($r->header('Content-Range') // '') . ' ' . $r->body : 'no answer',
   '206 bytes 0-4/28 plain', 'http10.range: an HTTP/1.0 Range on a file is served');
$r = $t->http_exchange("GET /hello.txt HTTP/1.0\r\n\r\n")->{responses}[0];
is($r ? $r->header('Accept-Ranges') // 'none' : 'no answer', 'bytes', '... and Accept-Ranges offered');
$r = $t->http_exchange("GET / HTTP/1.0\r\nRange: bytes=0-9\r\n\r\n")->{responses}[0];
is($r ? $r->code . ' ' . length($r->body) : 'no answer', '206 10', '... on a dir-listing page too');
$r = $t->http_exchange("GET /fcgi?early-hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
like($r->{raw} // '', qr{\AHTTP/1\.1 200 OK\r\n.*\r\n\r\ntest123\z}s,
     'h1-discard-backend-1xx: the backend\'s 103 is not relayed, its 200 is');
ok($t->stop_proc == 0, 'server stops');
done_testing();
