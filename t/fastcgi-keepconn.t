#!/usr/bin/perl
# connection-reuse (a per-host option of ours, off by default): requests
# reuse a kept backend connection with FCGI_KEEP_CONN; a connection the
# backend closed is not used again; requests beyond the limit queue for a
# connection instead of opening more (a kept connection never holds the
# only worker while another request waits in the backend's backlog).
# lighttpd 1.4.69 has no such option, so this runs against ours only.

use strict;
use warnings;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use File::Temp qw(tempdir);
use LightyTest qw(topdir);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;
plan skip_all => 'connection-reuse is ours; lighttpd 1.4.69 has no such option'
    if LightyTest::lighttpd_exe() =~ m{^/usr/s?bin/};

my $tmp = tempdir(CLEANUP => 1);
my %pid;
sub start_resp {
    my ($name, %env) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) { @ENV{keys %env} = values %env; open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null'); exec $resp, '--listen', "$tmp/$name.sock" or POSIX::_exit(127) }
    $pid{$name} = $pid;
    for (1 .. 50) { last if -S "$tmp/$name.sock"; select(undef, undef, undef, 0.05) }
}
sub stop_resp { my ($name) = @_; kill 'KILL', $pid{$name}; waitpid($pid{$name}, 0); unlink "$tmp/$name.sock" }
END { local $?; kill 'KILL', values %pid; waitpid($_, 0) for values %pid }
start_resp($_) for qw(k n);
# The responder as one poll-driven thread serving all its connections (the
# benchmark's fastcgi-poll-hello-reuse backend).
start_resp('p', RESPONDER_POLL => 1);

my $tf = LightyTest->new(config => 'fastcgi-keepconn.conf',
                         env => { SOCK_K => "$tmp/k.sock", SOCK_N => "$tmp/n.sock", SOCK_P => "$tmp/p.sock" });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
sub get {
    my ($req) = @_;
    my $x = $tf->http_exchange($req =~ /HTTP/ ? $req : "GET $req HTTP/1.0\r\n\r\n");
    my $r = $x->{responses}[0] or return 'no response';
    return $r->code == 200 ? $r->body : 'status ' . $r->code;
}

is(get('/k?keepconn'), 'keep-conn=1', 'connection-reuse: BEGIN_REQUEST carries FCGI_KEEP_CONN');
is(get('/n?keepconn'), 'keep-conn=0', 'default: no FCGI_KEEP_CONN, as lighttpd');
is(join(',', map { get('/k?conn-count') } 1 .. 4), 'conn-request=2,conn-request=3,conn-request=4,conn-request=5',
   'the kept connection takes the following requests');
is(join(',', map { get('/n?conn-count') } 1 .. 3), 'conn-request=1,conn-request=1,conn-request=1',
   'without the option every request has its own connection');
is(get("POST /k?echo-stdin HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello"), 'hello', 'a request body over a kept connection');

stop_resp('k');
start_resp('k');
is(get('/k?conn-count'), 'conn-request=1', 'the backend restarted: its closed connection is not used, a new one is');
is(get('/k?conn-count'), 'conn-request=2', 'and the new one is kept');

# Requests sent at once, each on its own client connection; the whole
# answers (or 'none' after 8 s).
sub concurrent {
    my @socks = map {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp') or die;
        print $s "GET $_ HTTP/1.0\r\n\r\n";
        $s;
    } @_;
    return map {
        my $s = $_;
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 8;
        my $r = eval { local $/; <$s> };
        alarm 0;
        defined $r ? $r : 'none';
    } @socks;
}
sub codes { join ' ', map { m{^HTTP/1\.\d (\d+)} ? $1 : 'none' } @_ }

# Two at once with a limit of 1 and a backend that serves one connection at a time.
is(codes(concurrent(('/k?sleep=300') x 2)), '200 200', 'two concurrent requests over a limit of one connection: both answered');

# A limit of 2 and the poll-driven responder: the second request opens a
# second kept connection while the first is busy, and the one thread
# serves both (a responder blocked on its first kept connection would
# leave the second unanswered).
is(codes(concurrent(('/p?sleep=300') x 2)), '200 200', 'poll responder: two kept connections, both answered');
like(join(',', map { get('/p?conn-count') } 1 .. 2), qr/^conn-request=[23],conn-request=[234]\z/,
     'poll responder: the kept connections take the next requests');
is(scalar(() = glob("/proc/$pid{p}/task/*")), 1, 'the poll responder is one thread');
# Eight at once: they queue for the one connection instead of opening more.
my @bodies = map { /\r\n\r\n(.*)\z/s ? $1 : 'none' } concurrent(('/k?conn-count') x 8);
my %seen;
$seen{$_}++ for @bodies;
is(scalar(grep { /^conn-request=\d+$/ } @bodies), 8, 'eight concurrent requests answered');
is(scalar(keys %seen), 8, 'all over the one kept connection, one after the other (' . join(',', sort @bodies) . ')');
is(get('/k?id'), '', 'the host still answers');
$tf->stop_proc;
done_testing();
