#!/usr/bin/perl
# server.stat-cache-engine: "disable" (and its other name "none") looks at
# the file on every request, so a file rewritten or replaced is served as
# it is now; "simple" (the default) may answer from what it saw within the
# same second, but in any later second a file rewritten in place is served
# anew even when its size and mtime were put back as they were (a deploy
# by cp -p or tar). Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use Time::HiRes ();
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
    my $tf = LightyTest->new(config => 'stat-cache.conf');
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
    my $tf = LightyTest->new(config => 'stat-cache.conf');
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

done_testing();
