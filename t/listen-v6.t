#!/usr/bin/perl
# 0.0.0.0:PORT and [::]:PORT bound side by side (no socket activation: the
# server binds them itself): the IPv6 listener is IPv6-only by default, as
# in lighttpd, so Debian's IPv6 setup starts; both answer.

use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use LightyTest;

my $have_v6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1);
plan skip_all => 'no IPv6 loopback here' unless $have_v6;
close $have_v6;

my $tf = LightyTest->new(config => 'listen-v6.conf', socket_activation => 0);
ok($tf->start_proc == 0, 'server starts with [::]:PORT next to 0.0.0.0:PORT')
    or do { done_testing(); exit };
# Connects to $port over $host and checks that /hello.txt is answered.
sub served_over {
    my ($host, $port, $what) = @_;
    my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Type => SOCK_STREAM);
    ok($s, "${what}connect over $host") or return;
    print $s "GET /hello.txt HTTP/1.0\r\n\r\n";
    my $r = do { local $/; <$s> };
    like($r // '', qr{\AHTTP/1\.0 200 OK\r\n}, "${what}answered over $host");
}
served_over($_, $tf->port, '') for '127.0.0.1', '::1';
$tf->stop_proc;

# server.use-ipv6 and no server.bind: [::]:PORT only, IPv6-only (as
# server.set-v6only is on), with lighttpd's warning.
my $tf2 = LightyTest->new(config => 'listen-v6-dual.conf', socket_activation => 0);
ok($tf2->start_proc == 0, 'server.use-ipv6 without server.bind: server starts')
    or do { done_testing(); exit };
like($tf2->server_log,
     qr/warning: please use server\.use-ipv6 only for hostnames, not without server\.bind \/ empty address; your config will break if the kernel default for IPV6_V6ONLY changes$/m,
     'lighttpd\'s warning');
served_over('::1', $tf2->port, 'the [::] listener: ');
ok(!IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $tf2->port, Type => SOCK_STREAM),
   'and not 127.0.0.1: it is IPv6-only');
$tf2->stop_proc;

# server.v4mapped = "enable": the [::] listener takes 127.0.0.1 too.
my $tf3 = LightyTest->new(config => 'listen-v6-mapped.conf', socket_activation => 0);
ok($tf3->start_proc == 0, 'server.v4mapped: server starts') or do { done_testing(); exit };
served_over($_, $tf3->port, 'v4mapped: ') for '127.0.0.1', '::1';
$tf3->stop_proc;

my $tf4 = LightyTest->new(config => 'listen-v6-nov6only.conf', socket_activation => 0);
ok($tf4->start_proc == 0, 'server.set-v6only disabled: server starts') or do { done_testing(); exit };
like($tf4->server_log,
     qr/warning: server\.set-v6only will be removed soon, update your config to have different sockets for ipv4 and ipv6$/m,
     'server.set-v6only disabled: lighttpd\'s warning');
$tf4->stop_proc;
done_testing();
