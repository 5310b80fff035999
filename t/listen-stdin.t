#!/usr/bin/perl
# server.bind = "/dev/stdin": the server listens on the socket it was
# started with on stdin (inetd's "wait" style, a supervisor holding the
# port) instead of binding one; stdin and stdout become /dev/null. A TCP
# and a unix socket; a $SERVER["socket"] block naming the address applies
# there and binds nothing more; a graceful restart keeps the socket; stdin
# that is not a socket is refused at start-up and by -tt with 1.4.69's
# message, -t does not look. Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use IO::Socket::UNIX;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use LightyTest qw(srcdir strip_log_prefix slurp_file);

my $exe = LightyTest::lighttpd_exe();
my $tmp = tempdir(CLEANUP => 1);
$ENV{SRCDIR} = srcdir();
$ENV{STDIN_LOG} = "$tmp/error.log";
my $conf = srcdir() . '/conf/listen-stdin.conf';
my $hello = slurp_file(srcdir() . '/docroot/hello.txt');

# Starts the server with $listener on stdin; returns its pid.
sub start_on {
    my ($listener) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open(STDIN, '<&', $listener) or POSIX::_exit(3);
        exec $exe, '-D', '-f', $conf or POSIX::_exit(127);
    }
    close $listener;
    return $pid;
}

sub get {
    my ($s) = @_;
    return undef unless $s;
    print $s "GET /hello.txt HTTP/1.0\r\n\r\n";
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    my $r = eval { local $/; <$s> };
    alarm 0;
    return $r;
}

sub connect_tcp {
    my ($port) = @_;
    for (1 .. 50) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
        return $s if $s;
        sleep 0.1;
    }
    return undef;
}

# (after a moment, the client's socket closed: 1.4.69 exits 1 when SIGTERM
# finds a client connection still open, here the lingering close of the
# last response)
sub stop {
    my ($pid) = @_;
    sleep 0.5;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    return $? >> 8;
}

# --- a TCP socket
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1) or die $!;
my $port = $l->sockport;
$ENV{STDIN_ADDR} = "127.0.0.1:$port";
my $pid = start_on($l);
my $r = get(connect_tcp($port));
like($r // '', qr{\AHTTP/1\.0 200 OK\r\n.*\r\n\r\n\Q$hello\E\z}s, 'served on the TCP socket from stdin');
like($r // '', qr/^Server: stdin-block\r$/m,
     'the $SERVER["socket"] block naming its address applies (and bound nothing more)');
is(readlink("/proc/$pid/fd/0"), '/dev/null', 'stdin is /dev/null then');
is(readlink("/proc/$pid/fd/1"), '/dev/null', '... and stdout');
kill 'USR1', $pid;
sleep 0.5;
$r = get(connect_tcp($port));
like($r // '', qr{\AHTTP/1\.0 200 OK\r\n.*^Server: stdin-block\r$}ms, 'after a graceful restart: the same socket');
is(stop($pid), 0, 'SIGTERM: exit 0');

# --- a unix socket
my $path = "$tmp/stdin.sock";
my $u = IO::Socket::UNIX->new(Local => $path, Listen => 16) or die $!;
$ENV{STDIN_ADDR} = $path;
$pid = start_on($u);
my $us;
for (1 .. 50) { last if ($us = IO::Socket::UNIX->new(Peer => $path)); sleep 0.1 }
$r = get($us);
like($r // '', qr{\AHTTP/1\.0 200 OK\r\n.*\r\n\r\n\Q$hello\E\z}s, 'served on the unix socket from stdin');
like($r // '', qr/^Server: stdin-block\r$/m, '... where its $SERVER["socket"] block applies');
close $us if $us;
is(stop($pid), 0, 'SIGTERM: exit 0');

# --- stdin not a socket
$ENV{STDIN_ADDR} = '127.0.0.1:1';
for my $opt ('-D', '-tt') {
    unlink "$tmp/error.log";
    my $out = `$exe $opt -f $conf < /dev/null 2>&1`;
    is($? >> 8, 255, "stdin /dev/null, $opt: exit 255");
    like(strip_log_prefix($out), qr/^getsockname\(\): Socket operation on non-socket$/m,
         "... with 1.4.69's message");
}
my $out = `$exe -t -f $conf < /dev/null 2>&1`;
is($? >> 8, 0, '-t does not look at stdin');
done_testing();
