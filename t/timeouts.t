#!/usr/bin/perl
# Connection timeouts and concurrency on the wire
# (doc: http-core.md §4 "Keep-alive and connection management").
#
# - server.max-keep-alive-idle = 1: an idle keep-alive connection is closed
#   by the server (timers fire after about N+1 s; we allow up to 5 s).
# - server.max-read-idle = 1: a connection with a partial request head (or
#   no bytes at all) is closed silently -- no 408.
# - a slow client (one byte per second) does not delay another client.
#
# The three idle connections are run in parallel to keep the runtime low.

use strict;
use warnings;
use Test::More;
use Socket ();
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use LightyTest qw(srcdir lighttpd_exe slurp_file parse_responses);

plan skip_all => 'LIGHTTPD_RS_NO_HTTP is set: HTTP serving not implemented yet'
    if $ENV{LIGHTTPD_RS_NO_HTTP};
my $EXE = lighttpd_exe();
ok(-x $EXE, "binary under test $EXE is executable") or do { done_testing(); exit };
my $ours = $EXE ne '/usr/sbin/lighttpd';
$SIG{PIPE} = 'IGNORE';

my $hello = slurp_file(srcdir() . '/docroot/hello.txt');

sub connect_to {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "connect to 127.0.0.1:$port failed: $!";
    binmode $s;
    $s->autoflush(1);
    return $s;
}

sub send_bytes {
    my ($s, $data) = @_;
    my $n = syswrite($s, $data);
    return defined $n && $n == length $data;
}

# read from $s until one complete response is buffered (or EOF/timeout).
# returns ($response_or_undef, $raw_bytes)
sub read_one_response {
    my ($s, $timeout) = @_;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + $timeout;
    while (time() < $deadline) {
        my ($r, undef, $incomplete) = parse_responses($buf, methods => ['GET'], eof => 0);
        return ($r->[0], $buf) if @$r && !$incomplete;
        next unless $sel->can_read($deadline - time());
        my $n = sysread($s, $buf, 65536, length $buf);
        last if !$n;
    }
    my ($r) = parse_responses($buf, methods => ['GET'], eof => 1);
    return ($r->[0], $buf);
}

# one timed GET on a fresh connection (Connection: close); returns
# ($status_or_undef, $seconds)
sub timed_get {
    my ($port, $path, $timeout) = @_;
    my $t0 = time();
    my $s = connect_to($port);
    send_bytes($s, "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($resp) = read_one_response($s, $timeout);
    my $dt = time() - $t0;
    close $s;
    return ($resp ? $resp->status : undef, $dt, $resp);
}

# ---------------------------------------------------------------------------
# idle timeouts

my $tf = LightyTest->new(config => 'timeouts-idle.conf');
ok($tf->start_proc == 0, 'server starts (max-keep-alive-idle = 1, max-read-idle = 1)')
    or do { done_testing(); exit };
my $port = $tf->port;

# connection A: one complete keep-alive request, then idle
my $ka = connect_to($port);
send_bytes($ka, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
my ($resp) = read_one_response($ka, 5);
my $t_ka = time();
ok($resp && $resp->status == 200 && $resp->body eq $hello,
   'keep-alive connection: first request answered 200');
ok($resp && !defined $resp->header('Connection'),
   'keep-alive connection: no "Connection: close" (connection stays open)');

# connection B: a partial request head, then nothing
my $partial = connect_to($port);
send_bytes($partial, "GET /hello.txt HTTP/1.1\r\nHost: local");
my $t_partial = time();

# connection C: connected, sends nothing at all
my $silent = connect_to($port);
my $t_silent = time();

# wait (in parallel) for the server to close each connection
my %conn = (
    ka      => { sock => $ka,      t0 => $t_ka,      data => '' },
    partial => { sock => $partial, t0 => $t_partial, data => '' },
    silent  => { sock => $silent,  t0 => $t_silent,  data => '' },
);
{
    my $sel = IO::Select->new(map { $_->{sock} } values %conn);
    my $deadline = time() + 5;
    while ($sel->count && time() < $deadline) {
        for my $s ($sel->can_read($deadline - time())) {
            my ($name) = grep { $conn{$_}{sock} == $s } keys %conn;
            my $n = sysread($s, $conn{$name}{data}, 65536, length $conn{$name}{data});
            if (!$n) {          # EOF or error (reset): closed by the server
                $conn{$name}{closed} = time() - $conn{$name}{t0};
                $sel->remove($s);
            }
        }
    }
}
close $_->{sock} for values %conn;
note(sprintf("%s closed after %.2f s", $_, $conn{$_}{closed} // -1)) for sort keys %conn;

for my $c ([ka => 'idle keep-alive connection (max-keep-alive-idle = 1)'],
           [partial => 'connection with a partial request head (max-read-idle = 1)'],
           [silent => 'new connection that sends nothing (max-read-idle = 1)']) {
    my ($name, $what) = @$c;
    my $closed = $conn{$name}{closed};
    ok(defined $closed, "$what is closed by the server within 5 s")
        or diag("$name: still open after 5 s");
    ok(defined $closed && $closed >= 0.5,
       "$what is not closed immediately (timer, not an error)")
        or diag("$name: closed after " . ($closed // 'never') . ' s');
    is($conn{$name}{data}, '', "$what: closed silently (no 408, no bytes)");
}

{
    my $log = $tf->error_log;
    like($log, qr/connection closed - keep-alive timeout: \d+$/m,
         'debug.log-request-handling: the idle keep-alive connection\'s line');
    my @read = $log =~ /connection closed - read timeout: \d+$/mg;
    is(scalar @read, 2, 'and a read-timeout line for each of the other two');
}

# connection D: asks for 32 MB and never reads (max-write-idle = 1)
mkdir $tf->tmpdir . '/stall';
{ open(my $fh, '>', $tf->tmpdir . '/stall/big.bin') or die; truncate($fh, 32 << 20); close $fh; }
my $stall = connect_to($port);
setsockopt($stall, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096);
send_bytes($stall, "GET /stall/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
my $note;
for (1 .. 60) {
    ($note) = $tf->error_log =~ /^.*NOTE: a request from 127\.0\.0\.1 for \/stall\/big\.bin timed out after writing (\d+) bytes\. We waited 1 seconds\. If this is a problem, increase server\.max-write-idle$/m;
    last if defined $note;
    select(undef, undef, undef, 0.1);
}
ok(defined $note && $note > 0 && $note < (32 << 20),
   'debug.log-timeouts: a stalled response is closed after max-write-idle, with lighttpd\'s note (' . ($note // 'none') . ' bytes)');
close $stall;

ok($tf->wait_idle(5), 'server holds no client connections afterwards');
ok($tf->stop_proc == 0, 'server stops on SIGTERM');
is($tf->exit_code, 0, 'exit code 0');

# ---------------------------------------------------------------------------
# a slow client does not delay other clients

my $tf2 = LightyTest->new(config => 'timeouts-slow.conf');
ok($tf2->start_proc == 0, 'server starts (default timeouts)')
    or do { done_testing(); exit };
$port = $tf2->port;

my $req = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
my $slow = connect_to($port);
my @fast;
for my $i (0 .. 2) {
    # one byte of the slow request per second, a normal GET in between
    send_bytes($slow, substr($req, $i, 1));
    sleep(0.5);
    my ($st, $dt) = timed_get($port, '/hello.txt', 3);
    push @fast, [$st, $dt];
    sleep(0.5);
}
for my $i (0 .. $#fast) {
    my ($st, $dt) = @{ $fast[$i] };
    is($st, 200, "GET on another connection while a slow request is in progress (" . ($i + 1) . " of 3): 200");
    ok(defined $st && $dt < 1, "... answered within 1 s")
        or diag(sprintf('took %.2f s', $dt));
}
# the slow request still completes normally
send_bytes($slow, substr($req, 3));
my ($slow_resp) = read_one_response($slow, 5);
close $slow;
ok($slow_resp && $slow_resp->status == 200 && $slow_resp->body eq $hello,
   'the slow request itself is answered 200 once complete');

ok($tf2->wait_idle(5), 'server holds no client connections afterwards');
ok($tf2->stop_proc == 0, 'server stops on SIGTERM');
is($tf2->exit_code, 0, 'exit code 0');

done_testing();
