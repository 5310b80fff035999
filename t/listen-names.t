#!/usr/bin/perl
# Listeners named by a host name and by its address (no socket
# activation: the server binds them itself). As in 1.4.69, each
# $SERVER["socket"] value is resolved and written as its address, so
# "localhost:P" and "127.0.0.1:P" are one socket, every block naming it
# applies there, and a != condition compares addresses too; the condition
# trace shows the value as written and the socket as its address.

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use LightyTest qw(strip_log_prefix free_port);


my $port2 = free_port();
my $tf = LightyTest->new(config => 'listen-names.conf', socket_activation => 0,
                         env => { PORT2 => $port2 });
ok($tf->start_proc == 0, 'server starts: "localhost:P" and "127.0.0.1:P" are one socket')
    or do { done_testing(); exit };
my $port = $tf->port;

sub tag_on {
    my ($p) = @_;
    local $tf->{PORT} = $p;
    my $r = $tf->http_exchange("GET /hello.txt HTTP/1.0\r\n\r\n", timeout => 5)->{responses}[0];
    return $r && $r->status == 200 ? $r->header('Server') : 'no 200';
}
is(tag_on($port), 'by-address',
   'server.bind "localhost": the block naming 127.0.0.1:PORT applies, the != "localhost:PORT" one not');
is(tag_on($port2), 'second-by-address',
   'PORT2 named twice: one listener, both blocks (and the != one) apply, the last one last');
ok($tf->stop_proc == 0, 'server stops');
my $log = strip_log_prefix($tf->error_log);
like($log, qr/^\$SERVER\["socket"\] == "localhost:$port2" compare to 127\.0\.0\.1:$port2$/m,
     'the condition trace: the value as written, the socket as its address');
like($log, qr/^\$SERVER\["socket"\] != "localhost:$port" compare to 127\.0\.0\.1:$port$/m,
     '... for a != condition too');
done_testing();
