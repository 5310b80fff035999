#!/usr/bin/perl
# server.max-worker: the server forks that many workers, which serve on
# the same listening socket, and watches them: a worker that is killed is
# replaced, a FastCGI proc that dies is started again by the parent (the
# procs are shared: min-procs is raised to max-procs with 1.4.69's line);
# SIGHUP goes on to the workers (each logs "logfiles cycled" naming the
# parent), SIGUSR1 restarts with new workers (a worker sent SIGUSR1
# itself ignores it), SIGINT makes the parent exit
# at once while the workers drain, SIGTERM stops all. Expected values are
# lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use Time::HiRes ();
use LightyTest qw(topdir wait_until docroot_with_download start_download finish_download);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;

# The document root: a small file, and one that takes a slow client a
# while.
$ENV{MW_ROOT} = docroot_with_download(32);

# The children of process $pid, as [pid, comm] pairs (from /proc).
sub children {
    my ($pid) = @_;
    my @c;
    for my $st (glob '/proc/[0-9]*/stat') {
        open(my $f, '<', $st) or next;
        my $l = <$f>;
        close $f;
        next unless defined $l && $l =~ /^(\d+) \((.*)\) \S+ (\d+) /;
        push @c, [$1, $2] if $3 == $pid;
    }
    return @c;
}
# Their pids, for those named $comm (a count in scalar context).
sub kids {
    my ($pid, $comm) = @_;
    my @k = sort { $a <=> $b } map { $_->[0] } grep { $_->[1] eq $comm } children($pid);
    return @k;
}

my $tf = LightyTest->new(config => 'max-worker.conf', env => { RESP => $resp });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $pid = $tf->pid;
my $exe = (split m{/}, $tf->exe)[-1];
sub get {
    my ($path) = @_;
    my $r = $tf->http_exchange("GET $path HTTP/1.0\r\n\r\n")->{responses}[0];
    return $r ? $r->code . ' ' . ($r->code == 200 ? $r->body : '') : 'no answer';
}
sub log_count2 { my ($t, $re) = @_; my @m = $t->error_log =~ /$re/g; return scalar @m }
sub log_count { return log_count2($tf, @_) }

ok(wait_until(sub { kids($pid, $exe) == 2 }, 5), 'two workers, children of the server');
my @workers = kids($pid, $exe);
ok(wait_until(sub { kids($pid, 'fcgi_responder') == 2 }, 5), 'min-procs 1 raised to max-procs 2: two procs, children of the server');
like($tf->error_log, qr{\) adaptive backend spawning disabled \(server\.max_worker is non-zero\)\n},
     '... with 1.4.69\'s line');
is(get('/hello.txt'), "200 Hello, World!\n", 'a static file') for 1 .. 3;
is(get('/fc'), '200 test123', 'a FastCGI request') for 1 .. 3;

# A worker that dies is replaced.
kill 'KILL', $workers[0] if @workers;
ok(@workers && wait_until(sub { my @k = kids($pid, $exe); @k == 2 && !grep { $_ == $workers[0] } @k }, 5),
   'a killed worker is replaced');
is(get('/hello.txt'), "200 Hello, World!\n", '... and the server answers') for 1 .. 2;

# A proc that dies is started again by the parent.
my @procs = kids($pid, 'fcgi_responder');
kill 'TERM', $procs[0] if @procs;
ok(@procs && wait_until(sub { my @k = kids($pid, 'fcgi_responder'); @k == 2 && !grep { $_ == $procs[0] } @k }, 5),
   'a FastCGI proc that dies is started again by the parent');
ok(wait_until(sub { $tf->error_log =~ m{\) connect \S+/fc\.sock-\d: Connection refused\n} }, 3),
   '... probing its old socket first, as 1.4.69');
is(get('/fc'), '200 test123', '... and FastCGI answers') for 1 .. 3;

# SIGHUP: the parent passes it on; each worker logs it, naming the parent.
kill 'HUP', $pid;
ok(wait_until(sub { log_count(qr{\) logfiles cycled UID = \d+ PID = $pid\n}) == 2 }, 5),
   'SIGHUP: "logfiles cycled" from each worker, sent by the parent');

# A worker ignores SIGUSR1 (the parent's to act on).
@workers = kids($pid, $exe);
kill 'USR1', $workers[0] if @workers;
Time::HiRes::sleep(0.5);
is(scalar(grep { kill 0, $_ } @workers), 2, 'a worker sent SIGUSR1 goes on');
is(log_count(qr{\) \[note\] graceful shutdown started\n}), 0, '... without a graceful shutdown');
is(get('/hello.txt'), "200 Hello, World!\n", '... and the server answers') for 1 .. 2;

# SIGUSR1: new workers on the same socket.
kill 'USR1', $pid;
ok(wait_until(sub { log_count(qr{\) server started }) == 2 }, 5), 'SIGUSR1: started again');
ok(wait_until(sub { my @k = kids($pid, $exe); @k == 2 && !grep { my $o = $_; grep { $_ == $o } @workers } @k }, 5),
   '... with two new workers');
ok(wait_until(sub { log_count(qr{\) \[note\] graceful shutdown started\n}) == 3 }, 5),
   '... the graceful note from the parent and each old worker');
is(log_count(qr{\) server stopped by UID = \d+ PID = $pid\n}), 2, '... the old workers stopped, sent by the parent');
is(get('/hello.txt'), "200 Hello, World!\n", '... and the server answers') for 1 .. 2;
is(get('/fc'), '200 test123', '... FastCGI too');

# SIGTERM: every worker stops, then the parent.
@workers = kids($pid, $exe);
ok($tf->stop_proc == 0, 'SIGTERM: the server stops');
is($tf->exit_status >> 8, 0, '... exit status 0');
ok(wait_until(sub { !grep { kill 0, $_ } @workers }, 5), '... and its workers');
is(log_count(qr{\) server stopped by UID = \d+ PID = $pid\n}), 4, '... each logging who stopped it');

# SIGINT: the parent exits at once, a worker busy with a slow client
# finishes first.
my $tf2 = LightyTest->new(config => 'max-worker.conf', env => { RESP => $resp });
ok($tf2->start_proc == 0, 'server starts again') or do { done_testing(); exit };
$pid = $tf2->pid;
ok(wait_until(sub { kids($pid, $exe) == 2 }, 5), 'two workers');
@workers = kids($pid, $exe);
my ($s, $got) = start_download($tf2->port);
like($got, qr{^HTTP/1\.0 200 }, 'a slow client starts a 32 MB download');
kill 'INT', $pid;
ok(wait_until(sub { waitpid($pid, 1) == $pid }, 3), 'SIGINT: the parent exits at once');
is($? >> 8, 0, '... with status 0');
ok(wait_until(sub { (grep { kill 0, $_ } @workers) == 1 }, 3),
   '... the worker with the download is still there, the other has gone');
my $n = finish_download($s, length $got);
ok($n > 32 << 20, "... and the download completes ($n bytes)");
ok(wait_until(sub { !grep { kill 0, $_ } @workers }, 10), '... then that worker exits');
my $log = $tf2->error_log;
my @notes = $log =~ /\) \[note\] graceful shutdown started\n/g;
is(scalar @notes, 3, '... the graceful note from the parent and each worker');
ok(wait_until(sub { log_count2($tf2, qr{\) server stopped by UID = \d+ PID = $pid\n}) == 2 }, 3),
   '... and "server stopped" from each worker');

done_testing();
