#!/usr/bin/perl
# The failure rows of fastcgi.md section 5, each against a backend that
# fails that way: accepted then closed (500), closed while the request is
# written (500), no answer within read-timeout
# (504), not reading within write-timeout (504), connect not completing
# within connect-timeout (503), and a backend killed mid-response (the
# client sees the response cut short, the server keeps serving, the proc is
# respawned). Expected values are lighttpd 1.4.69's, except the cut-short
# response (doc/compat.md): 1.4.69 sends the partial body with a
# Content-Length that makes it look complete; we send it chunked without
# the last chunk.

use strict;
use warnings;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use IO::Socket::UNIX;
use File::Temp qw(tempdir);
use LightyTest qw(topdir);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;
my $reference = (LightyTest::lighttpd_exe() =~ m{^/usr/s?bin/});

my $tmp = tempdir(CLEANUP => 1);
my @kids;
END { local $?; kill 'KILL', @kids; waitpid($_, 0) for @kids }

sub spawn_child {
    my ($code) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) { open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null'); $code->(); POSIX::_exit(0) }
    push @kids, $pid;
    return $pid;
}

# Accepts, reads the request, closes without answering.
my $close_l = IO::Socket::UNIX->new(Local => "$tmp/close.sock", Listen => 16) or die $!;
spawn_child(sub { while (my $c = $close_l->accept) { select(undef, undef, undef, 0.05); sysread($c, my $buf, 65536); close $c } });
# Accepts, waits, closes without reading (the server is still writing).
my $wclose_l = IO::Socket::UNIX->new(Local => "$tmp/wclose.sock", Listen => 16) or die $!;
spawn_child(sub { while (my $c = $wclose_l->accept) { select(undef, undef, undef, 0.3); close $c } });
# Accepts, lets the server fill the socket, shuts its reading side and
# drains what is queued: the server's next write fails (EPIPE).
my $shutrd_l = IO::Socket::UNIX->new(Local => "$tmp/shutrd.sock", Listen => 16) or die $!;
spawn_child(sub { while (my $c = $shutrd_l->accept) { select(undef, undef, undef, 0.2); shutdown($c, 0); 1 while sysread($c, my $buf, 65536); sleep 1; close $c } });
# Accepts and never reads.
my $noread_l = IO::Socket::UNIX->new(Local => "$tmp/noread.sock", Listen => 16) or die $!;
spawn_child(sub { my @held; while (my $c = $noread_l->accept) { push @held, $c } });
# Our responder (sleep=MS for the read timeout).
spawn_child(sub { exec $resp, '--listen', "$tmp/resp.sock" });
# A TCP listener whose accept queue is full: further connects never complete.
my $full = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1, Proto => 'tcp') or die $!;
my @fillers = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $full->sockport, Proto => 'tcp') } 1 .. 2;
for (1 .. 50) { last if -S "$tmp/resp.sock"; select(undef, undef, undef, 0.05) }

my $tf = LightyTest->new(config => 'fastcgi-failures.conf', env => {
    SOCK_CLOSE => "$tmp/close.sock", SOCK_SHUTRD => "$tmp/shutrd.sock", SOCK_WCLOSE => "$tmp/wclose.sock", SOCK_NOREAD => "$tmp/noread.sock", SOCK_RESP => "$tmp/resp.sock",
    PORT_FULL => $full->sockport, RESP => $resp });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };

sub raw {
    my ($req, $wait) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
    print $s $req;
    local $/;
    my $r = <$s>;
    return defined $r ? $r : '';
}
sub status { my ($r) = @_; return $r =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0 }

my $r = raw("GET /eof?x HTTP/1.0\r\n\r\n");
is(status($r), 500, 'backend accepts and closes: 500');
like($tf->error_log, qr/unexpected end-of-file \(perhaps the fastcgi process died\):pid: 0 socket: unix:\Q$tmp\E\/close\.sock$/m,
     'unexpected end-of-file, with the backend socket');
like($tf->error_log, qr/response not received, request sent: \d+ on socket: unix:\Q$tmp\E\/close\.sock for \/eof\?x, closing connection$/m,
     'response not received, request sent');

{
    my $body = 'x' x (1 << 20);
    $r = raw("POST /wclose HTTP/1.0\r\nContent-Length: " . length($body) . "\r\n\r\n$body");
    # The close resets the connection: the read error comes first, as in 1.4.69.
    is(status($r), 500, 'backend closes while the request is being written: 500');
    like($tf->error_log, qr/response not received, request sent: \d+ on socket: unix:\Q$tmp\E\/wclose\.sock for \/wclose\?, closing connection$/m,
         'response not received, with the bytes sent so far');
}

{
    my $body = 'x' x (1 << 20);
    $r = raw("POST /shutrd HTTP/1.0\r\nContent-Length: " . length($body) . "\r\n\r\n$body");
    is(status($r), 503, 'the backend stops reading mid-request: 503');
    like($tf->error_log, qr/connection was dropped after accept\(\) \(perhaps the gw process died\), write-offset: \d+ socket: unix:\Q$tmp\E\/shutrd\.sock$/m,
         'connection was dropped after accept(), with the write offset');
}

my $t0 = time;
$r = raw("GET /rt?sleep=4000 HTTP/1.0\r\n\r\n");
is(status($r), 504, 'no answer within read-timeout: 504');
ok(time - $t0 < 4, 'answered before the backend would have');
like($tf->error_log, qr/read timeout on socket: unix:\Q$tmp\E\/resp\.sock \(fd: \d+\)$/m, 'read timeout line');

# A 4 MB body the backend never reads, sent by a child so we can read the answer.
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
print $s "POST /wt HTTP/1.0\r\nContent-Length: " . (4 << 20) . "\r\n\r\n";
spawn_child(sub { local $SIG{PIPE} = 'IGNORE'; my $chunk = 'x' x 65536; for (1 .. 64) { print $s $chunk or last } sleep 30 });
$s->shutdown(1) if 0;
my $got = '';
{
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    eval { while (sysread($s, my $buf, 65536)) { $got .= $buf; last if $got =~ /\r\n\r\n/ } };
    alarm 0;
}
is(status($got), 504, 'backend does not read within write-timeout: 504');
like($tf->error_log, qr/write timeout on socket: unix:\Q$tmp\E\/noread\.sock \(fd: \d+\)$/m, 'write timeout line');
close $s;

$r = raw("GET /ct HTTP/1.0\r\n\r\n");
is(status($r), 503, 'connect does not complete within connect-timeout: 503');
like($tf->error_log, qr/establishing connection failed: socket: tcp:127\.0\.0\.1:${\ $full->sockport}: Connection timed out$/m,
     'connect timeout logged as ETIMEDOUT');

# Killed mid-response.
is(status(raw("GET /mid?id HTTP/1.0\r\n\r\n")), 200, 'bin-path proc answers');
my ($pid) = $tf->error_log =~ /got proc: pid: (\d+) socket: unix:[^ ]*mid\.sock-0/;
ok($pid, "its pid ($pid)");
my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
print $c "GET /mid?slow-body HTTP/1.1\r\nHost: a\r\n\r\n";
select(undef, undef, undef, 0.25);
kill 'KILL', $pid;
my $cut = do { local $/; <$c> };
$cut = '' unless defined $cut;
like($cut, qr/\A HTTP\/1\.1 \s 200/x, 'killed mid-response: the head went out');
like($cut, qr/chunk0\n/, 'the part that arrived went out');
unlike($cut, qr/chunk4/, 'the rest is missing');
if ($reference) {
    like($cut, qr/^Content-Length: \d+\r$/m, '1.4.69: the cut body is sent with a Content-Length');
} else {
    like($cut, qr/^Transfer-Encoding: chunked\r$/m, 'the cut body is chunked');
    unlike($cut, qr/\r\n0\r\n\r\n\z/, 'without the last chunk: the client can tell it was cut short');
}
like($tf->error_log, qr/response already sent out, but backend returned error on socket: unix:[^ ]*mid\.sock-0 for \/mid\?slow-body, terminating connection$/m,
     'response already sent out line');
# SIGCHLD reaps the dead proc and starts it again at once (no wait for the
# once-a-second check), so the very next request is answered.
is(status(raw("GET /mid?id HTTP/1.0\r\n\r\n")), 200, 'the killed proc is respawned at once');
like($tf->error_log, qr/child signalled: 9$/m, 'child signalled: 9');
my @pids = $tf->error_log =~ /got proc: pid: (\d+) socket: unix:[^ ]*mid\.sock-0/g;
isnt($pids[-1], $pid, 'a new pid answered');
is(status(raw("GET /eof?again HTTP/1.0\r\n\r\n")), 500, 'the server keeps serving');
unless ($reference) {
    like($tf->error_log, qr/emergency exit: fastcgi: connection-fd: \d+ fcgi-fd: \d+$/m,
         'fastcgi.debug: the seed\'s emergency exit line');
}
$tf->stop_proc;
done_testing();
