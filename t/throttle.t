#!/usr/bin/perl
# connection.kbytes-per-second: a 64 KiB file at 16 KiB/s takes about four
# seconds and arrives whole; the same file outside the limited URLs is not
# held back. (A lower bound on the time: a slower machine only makes it
# longer.) Expected behaviour is lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use LightyTest;

my $tf = LightyTest->new(config => 'throttle.conf');
for my $d ('slow', 'fast') {
    mkdir $tf->tmpdir . "/$d";
    open(my $fh, '>', $tf->tmpdir . "/$d/64k.bin") or die;
    print $fh 'x' x 65536;
    close $fh;
}
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $t0 = time;
my $x = $tf->http_exchange("GET /slow/64k.bin HTTP/1.0\r\n\r\n", timeout => 20);
my $dt = time - $t0;
my $r = $x->{responses}[0];
is($r ? length($r->body) : -1, 65536, 'the throttled file arrives whole');
cmp_ok($dt, '>=', 2.5, sprintf('at 16 KiB/s it takes more than 2.5 s (%.1f s)', $dt));
$x = $tf->http_exchange("GET /fast/64k.bin HTTP/1.0\r\n\r\n");
$r = $x->{responses}[0];
is($r ? length($r->body) : -1, 65536, 'the same file outside /slow/ arrives whole too');
$tf->stop_proc;
done_testing();
