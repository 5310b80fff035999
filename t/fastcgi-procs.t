#!/usr/bin/perl
# bin-path procs over their life (fastcgi.md §3, §5): their stderr in
# server.breakagelog, the load trace with
# fastcgi.debug (got proc / released proc), a child that exits is reaped
# ("child exited"), its requests get 503 while it is down and it is
# respawned with a new pid; adaptive spawning above min-procs under load
# ("overload detected") and the idle kill after idle-timeout. Expected lines
# are lighttpd 1.4.69's with the same responder.

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use IO::Socket::UNIX;
use LightyTest qw(topdir);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;

my $tf = LightyTest->new(config => 'fastcgi-procs.conf', env => { RESP => $resp });
ok($tf->start_proc == 0, 'server starts and spawns the procs') or do { done_testing(); exit };
my $tmp = $tf->tmpdir;

sub get {
    my ($path) = @_;
    my $x = $tf->http_exchange("GET $path HTTP/1.0\r\n\r\n");
    my $r = $x->{responses}[0] or return 'no response';
    return $r->code == 200 ? $r->body : 'status ' . $r->code;
}
sub wait_log {
    my ($re, $secs) = @_;
    for (1 .. $secs * 10) {
        return 1 if $tf->error_log =~ $re;
        select(undef, undef, undef, 0.1);
    }
    return 0;
}

is(get('/one?id'), 'one', 'bin-path proc answers, with its bin-environment');
SKIP: {
    my $ss = `ss -xlnH 2>/dev/null`;
    skip 'ss (iproute2) is not available', 1 unless $? == 0 && $ss ne '';
    my ($line) = grep { index($_, "$tmp/one.sock-0") >= 0 } split /\n/, $ss;
    # ss -xl: Netid State Recv-Q Send-Q(= backlog) Local ...
    my @f = split ' ', ($line // '');
    is($f[3], 7, 'listen-backlog: the spawned proc\'s socket listens with a backlog of 7');
}
is(get('/one?proc-stderr=hello-breakage'), '', 'a proc writes to its own stderr');
like(LightyTest::slurp_file("$tmp/breakage.log") // '', qr/^hello-breakage$/m,
     'server.breakagelog: the spawned proc\'s stderr lands there');
my ($pid1) = $tf->error_log =~ /got proc: pid: (\d+) socket: unix:\Q$tmp\E\/one\.sock-0 load: 1$/m;
ok($pid1, 'got proc: pid, socket-0 and load 1');
like($tf->error_log, qr/released proc: pid: $pid1 socket: unix:\Q$tmp\E\/one\.sock-0 load: 0$/m,
     'released proc: load back to 0');
ok(kill(0, $pid1), 'the pid in the trace is the running child');
is(readlink("/proc/$pid1/fd/1"), '/dev/null', 'its stdout is /dev/null, as lighttpd starts its backends');

is(get('/one?die-at-end'), 'test123', 'the child answers, then exits');
ok(wait_log(qr/child exited: 0 unix:\Q$tmp\E\/one\.sock-0$/m, 5), 'its exit is reaped and logged');
my $during = get('/one?id');
ok($during eq 'status 503' || $during eq 'one', "while it is down: 503 or already back ($during)");
my $back = '';
for (1 .. 50) { $back = get('/one?id'); last if $back eq 'one'; select(undef, undef, undef, 0.1) }
is($back, 'one', 'respawned: answers again');
like($tf->error_log, qr/new proc, socket: 0 \Q$tmp\E\/one\.sock-0$/m, 'respawn logged (new proc)');
my @pids = $tf->error_log =~ /got proc: pid: (\d+) socket: unix:\Q$tmp\E\/one\.sock-0/g;
isnt($pids[-1], $pid1, "the respawned child has a new pid ($pids[-1])");

# Adaptive: five requests at once on the single proc (load up to 5 > 1 for
# seconds, whichever moment the once-a-second check looks).
my @socks = map {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
    print $s "GET /ad?sleep=700 HTTP/1.0\r\n\r\n";
    $s;
} 1 .. 5;
my @codes = map { local $/; my $s = $_; my $r = <$s>; close $s; defined $r && $r =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0 } @socks;
is("@codes", '200 200 200 200 200', 'five concurrent requests answered');
ok(wait_log(qr/overload detected, spawning a new child$/m, 3), 'overload detected under load');
like($tf->error_log, qr/new proc, socket: 0 \Q$tmp\E\/ad\.sock-1$/m, 'the second proc is socket-1');
ok(wait_log(qr/idle-timeout reached, terminating child: socket: \Q$tmp\E\/ad\.sock-\d pid \d+$/m, 8),
   'an idle proc above min-procs is terminated after idle-timeout');
sleep 2;
unlike($tf->error_log, qr/child (?:exited|signalled)[^\n]*ad\.sock|child signalled/,
       'the idle kill is not reported as a crash');
is(get('/ad?id'), '', 'the host still answers with min-procs left');
$tf->stop_proc;
# A bin-path that cannot be started: the server does not start, and says
# why in 1.4.69's words (its directory cannot be opened; exec fails, which
# 1.4.69's child reports on its stderr and by its exit status, errno), the
# stale socket file it replaces included. (A program that exits by itself
# is caught only if it is gone 1 ms after the start, in both servers: not
# tested, as that depends on the machine's load.)
{
    my $dir = LightyTest::_new_tmpdir('spawnfail');
    my $port = LightyTest::free_port();
    open(my $fh, '>', "$dir/noexec") or die $!;
    close $fh;
    my $hint = "If you're trying to run your app as a FastCGI backend, make sure you're using the FastCGI-enabled "
             . "version.  If this is PHP on Gentoo, add 'fastcgi' to the USE flags.  If this is PHP, try removing "
             . "the bytecode caches for now and try again.";
    my @cases = (
        ["$dir/none/php-cgi", ["open dirname failed: $dir/none/php-cgi: No such file or directory",
                               "gw-backend failed to start: $dir/none/php-cgi"]],
        ["$dir/missing", ["$dir/missing: No such file or directory", "child exited: 2 unix:$dir/s.sock-0",
                          "gw-backend failed to start: $dir/missing", $hint]],
        ["$dir/noexec", ["$dir/noexec: Permission denied", "child exited: 13 unix:$dir/s.sock-0",
                         "gw-backend failed to start: $dir/noexec", $hint]],
    );
    for my $c (@cases) {
        my ($bin, $want) = @$c;
        # a stale socket file from an earlier run: connect refused, replaced
        IO::Socket::UNIX->new(Local => "$dir/s.sock-0", Listen => 1) or die "$dir/s.sock-0: $!";
        my $r = LightyTest::run_lighttpd(args => ['-D', '-f', '-'], timeout => 10, stdin => <<"CONF");
server.document-root = "$dir"
server.bind = "127.0.0.1"
server.port = $port
server.modules = ( "mod_fastcgi" )
fastcgi.server = ( ".php" => (( "bin-path" => "$bin", "socket" => "$dir/s.sock" )) )
CONF
        is($r->{exit}, 255, "bin-path $bin: the server does not start");
        my @lines = grep { !/^(server started|invalid "bin-path")/ } LightyTest::log_messages($r->{stderr});
        is_deeply(\@lines, ["connect $dir/s.sock-0: Connection refused", @$want,
                            '[ERROR]: spawning gw failed.', 'Configuration of plugins failed. Going down.'],
                  '... and says why as 1.4.69 does');
        unlink "$dir/s.sock-0";
    }
}

done_testing();
