#!/usr/bin/perl
# server.force-lowercase-filenames: files are looked up by the lower-cased
# URL path, per request (a conditional can turn it off). Expected values
# are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use LightyTest;

my $tf = LightyTest->new(config => 'lowercase.conf');
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $hello = LightyTest::slurp_file(LightyTest::srcdir() . '/docroot/hello.txt');
for my $path ('/HELLO.TXT', '/Hello.Txt', '/hello.txt') {
    ok($tf->handle_http({ REQUEST => ["GET $path HTTP/1.0"],
        RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello, 'Content-Type' => 'text/plain' }] }) == 0,
       "$path is served from hello.txt");
}
ok($tf->handle_http({ REQUEST => ["GET /NOPE.TXT HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'a missing file is still 404');
ok($tf->handle_http({ REQUEST => ["GET /SUB/ HTTP/1.0"], RESPONSE => [{ 'HTTP-Status' => 404 }] }) == 0,
   'turned off in a conditional: /SUB/ is not /sub/');
$tf->stop_proc;
done_testing();
