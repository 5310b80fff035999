#!/usr/bin/perl
# A "/prefix" fastcgi.server key is a prefix of the URL path, never of the
# file's physical path: with the document root under /X/..., a "/X" key
# (check-local disabled) does not take /t.fcgi, which check-local finds
# and the ".fcgi" key answers. Expected values are lighttpd 1.4.69's (ours
# served the script's source until session 9 when the tree lived under a
# directory such as /tmp whose name a short key began).

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use LightyTest qw(responder_socket);

my $sock = responder_socket();

# The first directory of the document root's path, e.g. "/work" or "/tmp".
my ($top) = (LightyTest::srcdir() =~ m{^(/[^/]+)});
my $dead = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)->sockport;
my $tf = LightyTest->new(config => 'fastcgi-prefix-key.conf',
    env => { FCGI_SOCK => $sock, ROOT_TOP => $top, DEAD_PORT => $dead });
ok($tf->start_proc == 0, "server starts (prefix key \"$top\")") or do { done_testing(); exit };
ok($tf->handle_http({ REQUEST => ["GET /t.fcgi?lf HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'test123' }] }) == 0,
   'the ".fcgi" key answers: the prefix key is not matched against the physical path');
ok($tf->handle_http({ REQUEST => ["GET $top/t.fcgi HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 503 }] }) == 0,
   'a URL under the prefix goes to the prefix key (its host is down: 503)');
my $root = LightyTest::srcdir() . '/docroot';
ok($tf->handle_http({ REQUEST => ["GET /dir/?env=SCRIPT_FILENAME HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "$root/dir/" }] }) == 0,
   'check-local prefix key, a directory without an index file: the directory goes to the backend');
ok($tf->handle_http({ REQUEST => ["GET /dir/?env=SCRIPT_NAME HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => '/dir/' }] }) == 0,
   '... as SCRIPT_NAME /dir/');
ok($tf->handle_http({ REQUEST => ["GET /dir/file.txt?env=SCRIPT_FILENAME HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => "$root/dir/file.txt" }] }) == 0,
   '... and a file under it too');
$tf->stop_proc;
done_testing();
