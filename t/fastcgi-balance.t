#!/usr/bin/perl
# fastcgi.balance across three backends (our test responder on 127.0.0.1,
# .2 and .3, each answering `?id` with its name): the order round-robin
# gives, least-connection's ties and concurrent spread, hash and sticky
# computed from lighttpd's djb2a formula, and failover: a killed backend is
# skipped (disabled for disable-time) and used again once it is back
# ("gw-server re-enabled"); all down is a 503. Expected values are lighttpd
# 1.4.69's with the same responders.

use strict;
use warnings;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use LightyTest qw(topdir);

my $resp = topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;

my @ips = ('127.0.0.1', '127.0.0.2', '127.0.0.3');
my @names = ('a', 'b', 'c');
my @ports = map { free_port($_) } @ips;
my %pid;

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => $_[0], LocalPort => 0, Proto => 'tcp',
                                  Listen => 1, ReuseAddr => 1) or die "no port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub start_backend {
    my ($i) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        $ENV{RESPONDER_ID} = $names[$i];
        exec $resp, '--bind', "$ips[$i]:$ports[$i]" or POSIX::_exit(127);
    }
    $pid{$i} = $pid;
    for (1 .. 100) {
        my $c = IO::Socket::INET->new(PeerAddr => $ips[$i], PeerPort => $ports[$i], Proto => 'tcp');
        if ($c) { close $c; return 1 }
        select(undef, undef, undef, 0.05);
    }
    return 0;
}

sub stop_backend {
    my ($i) = @_;
    return unless $pid{$i};
    kill 'KILL', $pid{$i};
    waitpid($pid{$i}, 0);
    delete $pid{$i};
}
END { local $?; stop_backend($_) for keys %pid }

for my $i (0 .. 2) { ok(start_backend($i), "backend $names[$i] listens on $ips[$i]") }

# djb2a as lighttpd 1.4.69 hashes, 32-bit.
sub djb {
    my ($s, $h) = @_;
    $h = 5381 unless defined $h;
    for my $c (unpack 'C*', $s) { $h = ((($h << 5) + $h) & 0xffffffff) ^ $c }
    return $h;
}
sub argmax {
    my @score = @_;
    my $best = 0;
    for my $k (1 .. $#score) { $best = $k if $score[$k] > $score[$best] }
    return $best;
}

sub server {
    my ($balance) = @_;
    my $tf = LightyTest->new(config => 'fastcgi-balance.conf',
        env => { BALANCE => $balance, PORT_A => $ports[0], PORT_B => $ports[1], PORT_C => $ports[2] });
    ok($tf->start_proc == 0, "server starts with fastcgi.balance = $balance") or return undef;
    return $tf;
}

# One request per connection; returns the body (the backend's name) or "status N".
sub get {
    my ($tf, $path, $host) = @_;
    $host = 'test' unless defined $host;
    my $x = $tf->http_exchange("GET $path HTTP/1.0\r\nHost: $host\r\n\r\n");
    my $r = $x->{responses}[0] or return 'no response';
    return $r->code == 200 ? $r->body : 'status ' . $r->code;
}

# Sends all requests first, then reads the answers (the backends see them
# at the same time).
sub concurrent {
    my ($tf, @paths) = @_;
    my @socks = map {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp')
            or die "connect: $!";
        print $s "GET $_ HTTP/1.0\r\n\r\n";
        select(undef, undef, undef, 0.1);
        $s;
    } @paths;
    return map { local $/; my $s = $_; my $r = <$s>; close $s; defined $r && $r =~ /\r\n\r\n(.*)\z/s ? $1 : '' } @socks;
}

{
    my $tf = server('round-robin') or last;
    is(join('', map { get($tf, '/b?id') } 1 .. 9), 'abcabcabc', 'round-robin: a b c in turn');

    # Failover: b is killed; its turn goes to the next host, every request is answered.
    stop_backend(1);
    my @got = map { get($tf, '/b?id') } 1 .. 6;
    is_deeply([grep { !/^[ac]$/ } @got], [], 'b killed: every request answered by a or c');
    ok((grep { $_ eq 'a' } @got) && (grep { $_ eq 'c' } @got), 'b killed: both a and c still used');
    like($tf->error_log, qr/establishing connection failed: socket: tcp:127\.0\.0\.2:$ports[1]: Connection refused/,
         'the refused connect is logged with the backend address');

    ok(start_backend(1), 'b is back');
    sleep 3; # disable-time 1, then the once-a-second check
    my $seen = join '', map { get($tf, '/b?id') } 1 .. 6;
    like($seen, qr/b/, "b used again after disable-time ($seen)");
    like($tf->error_log, qr/gw-server re-enabled: tcp:127\.0\.0\.2:$ports[1] 127\.0\.0\.2 $ports[1] $/m,
         'gw-server re-enabled line');

    stop_backend($_) for 0 .. 2;
    is(get($tf, '/b?id'), 'status 503', 'all three backends down: 503');
    like($tf->error_log, qr/all handlers for \/b\?id on \/b are down\./, 'all handlers down is logged');
    $tf->stop_proc;
    for my $i (0 .. 2) { ok(start_backend($i), "backend $names[$i] restarted") }
}

{
    my $tf = server('least-connection') or last;
    is(join('', map { get($tf, '/b?id') } 1 .. 6), 'aaaaaa',
       'least-connection, one request at a time: equal loads, the first host wins');
    my @got = concurrent($tf, ('/b?sleep=800') x 3);
    is(join(',', sort @got), 'a,b,c', 'least-connection: three concurrent requests go to three hosts');
    $tf->stop_proc;
}

{
    my $tf = server('hash') or last;
    my (%used, @bad);
    for my $n (0 .. 29) {
        my $path = "/b/p$n";
        my $base = djb('test', djb($path));
        my $want = $names[argmax(map { $base ^ djb($_) } @ips)];
        my $got = get($tf, "$path?id");
        push @bad, "$path: got $got, want $want" unless $got eq $want;
        $used{$got}++;
    }
    is_deeply(\@bad, [], 'hash: every path goes where djb2a(path, authority) ^ djb2a(host) puts it');
    ok(keys(%used) >= 2, 'hash: the paths spread over ' . join(',', sort keys %used));
    is(get($tf, '/b/p7?id'), get($tf, '/b/p7?id'), 'hash: the same path goes to the same host');
    $tf->stop_proc;
}

{
    my $tf = server('sticky') or last;
    my $base = djb('127.0.0.1');
    my $want = $names[argmax(map { $base ^ djb($ips[$_]) ^ $ports[$_] } 0 .. 2)];
    is(join('', map { get($tf, "/b/x$_?id") } 1 .. 5), $want x 5,
       "sticky: one client, one host ($want), whatever the path");
    $tf->stop_proc;
}

done_testing();
