#!/usr/bin/perl
# server.listen-backlog (no socket activation: the server binds its
# sockets itself): the global value on server.bind's socket and on a
# $SERVER["socket"] block that does not set it, the block's own value on
# the block that does. Read back with ss (a listening socket's Send-Q is
# its backlog). Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use LightyTest qw(free_port);

my $ss = `ss -ltnH 2>/dev/null`;
plan skip_all => 'ss (iproute2) is not available' unless $? == 0;

my ($port2, $port3) = (free_port(), free_port());
my $tf = LightyTest->new(config => 'listen-backlog.conf', socket_activation => 0,
                         env => { PORT2 => $port2, PORT3 => $port3 });
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };

sub backlog {
    my ($port) = @_;
    for my $line (split /\n/, `ss -ltnH`) {
        # State Recv-Q Send-Q(= backlog) Local-Address:Port Peer...
        my @f = split ' ', $line;
        return $f[2] if ($f[3] // '') eq "127.0.0.1:$port";
    }
    return 'not listening';
}
is(backlog($tf->port), 33, 'server.bind\'s socket: the global server.listen-backlog');
is(backlog($port2), 17, 'a $SERVER["socket"] block\'s own server.listen-backlog');
is(backlog($port3), 33, 'a block that does not set it: the global value');
ok($tf->stop_proc == 0, 'server stops');
done_testing();
