#!/usr/bin/perl
# server.defer-accept: TCP_DEFER_ACCEPT on each TCP listener that has it on,
# also one inherited through socket activation (read back here from the
# harness's copy of that socket); on a unix socket it cannot be set, which
# is logged and the server goes on. Passes against 1.4.69 too.

use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX;
use Socket qw(IPPROTO_TCP TCP_DEFER_ACCEPT);
use LightyTest qw(srcdir slurp_file strip_log_prefix);

my $hello = slurp_file(srcdir() . '/docroot/hello.txt');

for my $defer ('enable', 'disable') {
    my $tf = LightyTest->new(config => 'defer-accept.conf', keep_listen_socket => 1,
                             env => { DEFER => $defer });
    ok($tf->start_proc == 0, "server.defer-accept = \"$defer\": server starts")
        or next;
    my $v = getsockopt($tf->{LISTEN_SOCK}, IPPROTO_TCP, TCP_DEFER_ACCEPT);
    is(defined $v ? unpack('i', $v) : 'undef', $defer eq 'enable' ? 1 : 0,
       "... TCP_DEFER_ACCEPT on the inherited listener: " . ($defer eq 'enable' ? '1 s' : 'off'));
    ok($tf->handle_http({ REQUEST => ["GET /hello.txt HTTP/1.0"],
                          RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => $hello }] }) == 0,
       '... a request over TCP is answered');
    my $u = IO::Socket::UNIX->new(Peer => $tf->tmpdir . '/defer.sock', Type => SOCK_STREAM);
    ok($u, '... the unix socket listens');
    if ($u) {
        print $u "GET /hello.txt HTTP/1.0\r\n\r\n";
        my $r = do { local $/; <$u> };
        like($r // '', qr{\AHTTP/1\.0 200 OK\r\n.*\r\n\r\n\Q$hello\E\z}s, '... and answers');
    }
    my @lines = grep { /TCP_DEFER_ACCEPT/ } split /\n/, strip_log_prefix($tf->server_log);
    is_deeply(\@lines, $defer eq 'enable' ? ["can't set TCP_DEFER_ACCEPT: Operation not supported"] : [],
              $defer eq 'enable' ? '... the unix socket\'s failure is logged once' : '... nothing logged');
    $tf->stop_proc;
}

done_testing();
