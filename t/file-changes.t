#!/usr/bin/perl
# Files that change under the server.
# server.stat-cache-engine: "disable" (and its other name "none") looks at
# the file on every request, so a file rewritten or replaced is served as
# it is now; "simple" (the default) may answer from what it saw within the
# same second, but in any later second a file rewritten in place is served
# anew even when its size and mtime were put back as they were (a deploy
# by cp -p or tar). A file cut short while it is being sent: the
# connection is closed (the client sees fewer bytes than Content-Length)
# with lighttpd's two log lines, and the server goes on serving.
# Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use Time::HiRes ();
use IO::Socket::INET;
use IO::Select;
use File::Temp qw(tempdir);
use LightyTest;

my $root = tempdir(CLEANUP => 1);
$ENV{STATCACHE_ROOT} = $root;

sub put {
    my ($name, $data) = @_;
    open(my $f, '>', "$root/$name") or die "$name: $!";
    print $f $data;
    close $f;
}

sub body_of {
    my ($tf, $name) = @_;
    my $r = $tf->http_exchange("GET /$name HTTP/1.0\r\n\r\n")->{responses}[0];
    return $r ? $r->header('Content-Length') . ' ' . $r->body : 'no answer';
}

for my $engine ('disable', 'none') {
    $ENV{STATCACHE_ENGINE} = $engine;
    my $tf = LightyTest->new(config => 'file-changes.conf');
    ok($tf->start_proc == 0, "$engine: server starts") or next;
    put('d.txt', 'aaaa');
    is(body_of($tf, 'd.txt'), '4 aaaa', "$engine: the file");
    put('d.txt', 'bbbbbbbb');
    is(body_of($tf, 'd.txt'), '8 bbbbbbbb', "$engine: rewritten in place, served as it is now");
    put('d.tmp', 'cccc');
    rename("$root/d.tmp", "$root/d.txt") or die $!;
    is(body_of($tf, 'd.txt'), '4 cccc', "$engine: replaced by a rename, the new file at once");
    unlink("$root/d.txt");
    my $r = $tf->http_exchange("GET /d.txt HTTP/1.0\r\n\r\n")->{responses}[0];
    is($r ? $r->code : 0, 404, "$engine: removed, 404 at once");
    ok($tf->stop_proc == 0, "$engine: server stops");
}

{
    $ENV{STATCACHE_ENGINE} = 'simple';
    my $tf = LightyTest->new(config => 'file-changes.conf');
    ok($tf->start_proc == 0, 'simple: server starts') or do { done_testing(); exit };
    # Both versions get the same size and the same whole-second mtime:
    # only the ctime tells them apart.
    put('s.txt', 'aaaa');
    utime(1600000000, 1600000000, "$root/s.txt") or die $!;
    is(body_of($tf, 's.txt'), '4 aaaa', 'simple: the file');
    Time::HiRes::sleep(1.1);
    is(body_of($tf, 's.txt'), '4 aaaa', 'simple: unchanged a second later');
    put('s.txt', 'bbbb');
    utime(1600000000, 1600000000, "$root/s.txt") or die $!;
    Time::HiRes::sleep(1.1);
    is(body_of($tf, 's.txt'), '4 bbbb', 'simple: rewritten with size and mtime as before, served anew a second later');
    put('s.txt', 'cccccc');
    Time::HiRes::sleep(1.1);
    is(body_of($tf, 's.txt'), '6 cccccc', 'simple: a new size, a second later');
    ok($tf->stop_proc == 0, 'simple: server stops');
}

{
    $ENV{STATCACHE_ENGINE} = 'simple';
    my $tf = LightyTest->new(config => 'file-changes.conf');
    ok($tf->start_proc == 0, 'truncated: server starts') or do { done_testing(); exit };
    # More than the socket buffers on both sides hold, so the server is
    # still sending when the file is cut to 1 MB.
    open(my $f, '>', "$root/big.bin") or die $!;
    print $f 'x' x (1 << 20) for 1 .. 48;
    close $f;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die $!;
    print $s "GET /big.bin HTTP/1.0\r\n\r\n";
    my $head = '';
    while ($head !~ /\r\n\r\n/) { sysread($s, $head, 200, length $head) or last }
    like($head, qr{^HTTP/1\.0 200 OK.*Content-Length: 50331648\r\n}s, 'truncated: the whole size announced');
    Time::HiRes::sleep(0.5);
    truncate("$root/big.bin", 1 << 20) or die $!;
    my ($n, $buf, $eof) = (0, '', 0);
    my $sel = IO::Select->new($s);
    while ($sel->can_read(10)) {
        my $r = sysread($s, $buf, 1 << 20);
        if (!$r) { $eof = 1; last }
        $n += $r;
    }
    ok($eof, 'truncated: the server closes the connection');
    ok($n < 48 << 20, "truncated: fewer bytes than announced ($n)");
    put('after.txt', 'still here');
    is(body_of($tf, 'after.txt'), '10 still here', 'truncated: the next request is served');
    ok($tf->stop_proc == 0, 'truncated: server stops');
    my $log = $tf->server_log;
    like($log, qr{\) sendfile\(\): fd: \d+ file truncated\n}, 'truncated: "sendfile(): fd: N file truncated" logged');
    like($log, qr{\) connection closed: write failed on fd \d+\n}, 'truncated: "connection closed: write failed on fd N" logged');
}

done_testing();
