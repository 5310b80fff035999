#!/usr/bin/perl
# lighttpd -1: one connection on stdin (a connected socket, as inetd gives
# it) is served, then the server exits 0; stdin that is not a socket is
# refused with lighttpd's message. Expected values are lighttpd 1.4.69's.

use strict;
use warnings;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use File::Temp qw(tempdir);
use LightyTest qw(srcdir strip_log_prefix);

my $exe = LightyTest::lighttpd_exe();
my $tmp = tempdir(CLEANUP => 1);
$ENV{SRCDIR} = srcdir();
$ENV{ONESHOT_LOG} = "$tmp/error.log";
my $conf = srcdir() . '/conf/oneshot.conf';

my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1, ReuseAddr => 1) or die $!;
my $pid = fork();
die "fork: $!" unless defined $pid;
if (!$pid) {
    my $c = $l->accept or POSIX::_exit(2);
    open(STDIN, '<&', $c) or POSIX::_exit(3);
    close $c;
    close $l;
    exec $exe, '-D', '-1', '-f', $conf or POSIX::_exit(127);
}
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $l->sockport, Proto => 'tcp') or die $!;
close $l;
print $s "GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
my $r = '';
{
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    eval { local $/; $r = <$s> };
    alarm 0;
}
my $hello = LightyTest::slurp_file(srcdir() . '/docroot/hello.txt');
my @resp = split /(?=^HTTP\/1\.1 )/m, $r;
is(scalar @resp, 2, 'two requests on the stdin connection, two responses');
unlike($resp[0] // '', qr/^Connection:/m, 'keep-alive is allowed on it');
like($resp[1] // '', qr{\AHTTP/1\.1 200 OK\r\n.*^Connection: close\r\n.*\r\n\r\n\Q$hello\E\z}ms,
     'the second, with Connection: close, is answered');
my $waited = 0;
# (1.4.69 exits once its graceful-shutdown timeout has passed; we exit as
# soon as the connection is closed.)
for (1 .. 120) { last if waitpid($pid, POSIX::WNOHANG()) == $pid && ($waited = 1); select(undef, undef, undef, 0.1) }
ok($waited, 'then the server exits');
is($? >> 8, 0, 'with status 0');
unlike(strip_log_prefix(LightyTest::slurp_file("$tmp/error.log") // ''), qr/server stopped by/,
       'no "server stopped by" line for -1');

# stdin a regular file: refused
open(my $null, '<', '/dev/null') or die;
my $out = `$exe -D -1 -f $conf < $conf 2>&1`;
isnt($? >> 8, 0, 'stdin not a socket: start-up fails');
like(strip_log_prefix(LightyTest::slurp_file("$tmp/error.log") . $out), qr/^lighttpd -1 stdin is not a socket$/m,
     'with lighttpd\'s message');
done_testing();
