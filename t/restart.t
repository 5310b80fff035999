#!/usr/bin/perl
# SIGUSR1: a graceful restart in the same process, as 1.4.69 does (Debian's
# `systemctl reload lighttpd` sends it): in-flight requests finish, the
# configuration is read again, the listening socket is kept (a client that
# connects meanwhile is answered), bin-path backends are started again, and
# the log shows the stop and the new start.

use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use LightyTest qw(strip_log_prefix);

my $resp = LightyTest::topdir() . '/target/release/examples/fcgi_responder';
plan skip_all => "build the test responder first: cargo build --release --example fcgi_responder"
    unless -x $resp;
my $fport = do {
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die;
    my $p = $l->sockport; close $l; $p
};
my $tf = LightyTest->new(config => 'restart.conf', env => { RESP => $resp, FCGI_PORT => $fport });
sub tag {
    open(my $fh, '>', $tf->tmpdir . '/tag.conf') or die;
    print $fh "server.tag = \"$_[0]\"\n";
    close $fh;
}
tag('before');
ok($tf->start_proc == 0, 'server starts') or do { done_testing(); exit };
my $pid = $tf->pid;
ok($tf->handle_http({ REQUEST => ["GET /hello.txt HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'Server' => 'before' }] }) == 0, 'server.tag from the included file');

tag('after');
kill 'USR1', $pid;
# A client connecting during the restart waits in the kept socket's backlog.
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tf->port, Proto => 'tcp');
ok($s, 'the listening socket is still there during the restart');
print $s "GET /hello.txt HTTP/1.0\r\n\r\n" if $s;
my $r = $s ? do { local $/; <$s> } : '';
like($r // '', qr{\AHTTP/1\.0 200 OK\r\n.*^Server: after\r$}ms, 'it is answered by the restarted server, with the re-read config');
ok(kill(0, $pid), 'same process');
ok($tf->handle_http({ REQUEST => ["GET /fcgi?id HTTP/1.0"],
    RESPONSE => [{ 'HTTP-Status' => 200, 'HTTP-Content' => 'spawned' }] }) == 0,
   'the bin-path backend was started again by the new run');
unlike($tf->error_log, qr/socket is already used|establishing connection failed/,
       'not mistaken for an external backend still answering');
my @log = split /\n/, strip_log_prefix($tf->error_log);
my @seq = grep { /^(?:server started|\[note\] graceful shutdown started|server stopped by)/ } @log;
s/ \(.*\)$|UID = \d+ PID = \d+/X/ for @seq;
is(join('|', @seq), 'server startedX|[note] graceful shutdown started|server stopped by X|server startedX',
   'log: started, graceful shutdown started, stopped by <uid/pid>, started again');
ok($tf->stop_proc == 0, 'server stops on SIGTERM');
done_testing();
