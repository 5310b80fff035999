#!/usr/bin/perl
# connection-pipelining (ours, with connection-reuse; off by default): a
# waiting GET or HEAD without a body is written on a busy kept connection
# behind the request it carries, so the backend's worker finds it at once;
# the connection is then handed to it. A request with a body waits for a
# free connection. When the carrying request fails, the one behind it is
# sent again on another connection. php-cgi (which reads records exactly, as the
# option needs) answers a crowd of clients right while its children exit
# every 5 requests under pipelined requests.
# lighttpd 1.4.69 has no such option, so this runs against ours only.

use strict;
use warnings;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use LightyTest qw(topdir free_port);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
my $php = '/usr/bin/php-cgi';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;
plan skip_all => 'php-cgi is not installed (.ci/run installs it)' unless -x $php;
plan skip_all => 'connection-pipelining is ours; lighttpd 1.4.69 has no such option'
    if LightyTest::lighttpd_exe() =~ m{^/usr/s?bin/};

my %port = (p => free_port(), k => free_port(), t => free_port());
my %pid;
for my $name (keys %port) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        exec $resp, '--port', $port{$name} or POSIX::_exit(127);
    }
    $pid{$name} = $pid;
    for (1 .. 100) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port{$name}, Proto => 'tcp');
        if ($c) { close $c; last }
        select(undef, undef, undef, 0.05);
    }
}
END { local $?; kill 'KILL', values %pid; waitpid($_, 0) for values %pid }

my $tf = LightyTest->new(config => 'fastcgi-pipelining.conf',
    env => { PORT_P => $port{p}, PORT_K => $port{k}, PORT_T => $port{t}, PHP_CGI => $php });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };

sub send_req {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
    print $s ($req =~ /HTTP/ ? $req : "GET $req HTTP/1.0\r\n\r\n");
    return $s;
}
sub answer {
    my ($s) = @_;
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    my $r = eval { local $/; <$s> };
    alarm 0;
    return 'no response' unless defined $r && $r =~ m{^HTTP/1\.\d (\d+)[^\n]*\n.*?\r\n\r\n(.*)\z}s;
    return $1 == 200 ? $2 : "status $1";
}
sub pause { select(undef, undef, undef, $_[0]) }

# The first request keeps the one connection busy for 400 ms; the second
# comes 100 ms later.
my $a = send_req('/pipelined-p?peek-next=400');
pause(0.1);
my $b = send_req('/pipelined-p?conn-count');
is(answer($a), 'next-waiting=1', 'the waiting GET is written behind the busy request');
like(answer($b), qr/^conn-request=(\d+)$/, 'and answered');
$a = send_req('/pipelined-k?peek-next=400');
pause(0.1);
$b = send_req('/pipelined-k?conn-count');
is(answer($a), 'next-waiting=0', 'control: connection-reuse alone writes it only when the connection is free');
like(answer($b), qr/^conn-request=\d+$/, 'control: answered');

# The connection now carries its Nth request; a pipelined one is the next on it.
my ($n) = answer(send_req('/pipelined-p?conn-count')) =~ /(\d+)/;
$a = send_req('/pipelined-p?peek-next=300');
pause(0.1);
$b = send_req('/pipelined-p?conn-count');
is(answer($a), 'next-waiting=1', 'pipelined again');
is(answer($b), 'conn-request=' . ($n + 2), 'on the same connection, right after the carrying request');

# A request with a body is not pipelined: it waits for the connection.
$a = send_req('/pipelined-p?peek-next=300');
pause(0.1);
$b = send_req("POST /pipelined-p?echo-stdin HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
is(answer($a), 'next-waiting=0', 'a POST is not written behind');
is(answer($b), 'hello', 'it is sent once the connection is free');

# The pipelined request's client leaves: it is not noticed while the
# request waits (as a request that waits for a free connection), its reply
# is read to the end and the connection stays kept.
($n) = answer(send_req('/pipelined-p?conn-count')) =~ /(\d+)/;
$a = send_req('/pipelined-p?peek-next=400');
pause(0.1);
$b = send_req('/pipelined-p?conn-count');
pause(0.1);
close $b;
is(answer($a), 'next-waiting=1', 'pipelined, then its client left');
is(answer(send_req('/pipelined-p?conn-count')), 'conn-request=' . ($n + 3), 'its reply was read whole: the connection serves the next request');

# The carrying request fails (read-timeout, 504): the request written
# behind it is sent again on a new connection (the backend, serving one
# connection at a time, drops the old one when its late reply fails).
$a = send_req('/pipelined-t?sleep=2500');
pause(0.1);
$b = send_req('/pipelined-t?conn-count');
is(answer($a), 'status 504', 'the carrier times out');
is(answer($b), 'conn-request=1', 'the pipelined request is answered over a new connection');

# php-cgi, two children exiting every 5 requests: 6 clients x 20 requests,
# every answer checked against its own request, one client posting bodies.
my @kids;
for my $c (1 .. 6) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        my $bad = 0;
        for my $i (1 .. 20) {
            my ($req, $want);
            if ($c == 6) {
                my $body = "b$i";
                $req = "POST /q.php?c=$c&i=$i HTTP/1.0\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
                $want = "q=c=$c&i=$i body=$body";
            } else {
                $req = "GET /q.php?c=$c&i=$i HTTP/1.0\r\n\r\n";
                $want = "q=c=$c&i=$i body=";
            }
            my $got = answer(send_req($req));
            if ($got ne $want) { $bad++; print STDERR "# client $c request $i: got '$got', want '$want'\n" }
        }
        POSIX::_exit($bad > 255 ? 255 : $bad);
    }
    push @kids, $pid;
}
my $bad = 0;
for (@kids) { waitpid($_, 0); $bad += $? >> 8 }
is($bad, 0, 'php-cgi: 120 requests from 6 clients, each answered with its own reply');
is(answer(send_req('/q.php?last')), 'q=last body=', 'php-cgi still answers');
my $log = $tf->error_log;
$log =~ s/^.*read timeout on socket.*\n//mg;
unlike($log, qr/response not received|unexpected end-of-file|invalid response headers|timeout/,
       'no backend errors in the log but the one timeout');
$tf->stop_proc;
done_testing();
